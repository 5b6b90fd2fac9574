"""Several models of one architecture trained as one network on a CPU thread: their convolutions become one
grouped convolution, their linear layers one batched matrix product.

Why: LeNet-5's convolutions have 6 and 16 channels, which fill less than half of a CPU's vector registers, and
every training step of so small a model pays the same fixed costs in Python and PyTorch's dispatcher. Side by side,
models share both (`python -m benchmarks.bench` gives the models/s).

Each model keeps what it would have alone: its initial weights, its batches in its own order, its dropout masks
(from its own generator, drawn as `train_model` draws them) and its optimiser state (Adam, SGD and weight decay act
element-wise). Its weights differ from those `train_model` gives only in their last bits (`tests/test_stacked.py`):
a grouped convolution sums in another order than a plain one, and the fused optimiser step rounds the last few
values of each stacked tensor in another way than the rest, so a model's last bits also depend on its place in its
stack. Which models train together is therefore fixed by the models asked for (`stacks`), never by the machine.
"""

from collections.abc import Hashable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..config import TrainConfig
from ..models import build_model
from ..progress import Progress, ProgressFn, no_progress
from .inference import accuracy
from .loop import LAYOUT, EpochStats, Pair, on_curve, shown
from .optimizer import FusedStep


STACK = 5  # the most models trained side by side: with freed memory kept (`jobs.executors.keep_freed_memory`) a
# model's share of a stack's time stays about the same from 2 to 8 models, and 5 lets the overfit preset's target
# and 8 shadows train as 4 + 5 on two workers; `python -m benchmarks.bench` measures 4 + 4 against each alone


def stacks(keys: list[Hashable | None]) -> list[list[int]]:
    """Which of len(keys) models train together, as lists of their indices. Models with the same key (None: a model
    that cannot be stacked) train side by side, in the order they come, in as few stacks of at most STACK as there
    can be, but in two from four models up, so that two workers (one per
    core on a 2-core machine) both get some. The stacks are as even as they can be, the smaller first: a target, asked for first, then
    comes back first, and what needs only it runs while the rest train. None holds one model unless it is the only
    one. Any other model trains alone. The lists come in the order of their first index. They depend on the keys
    alone, never on the machine: the overfit preset's target and 8 shadows train as 4 + 5, and 8 shadows alone as
    4 + 4, whatever runs them."""
    found, groups = [], {}
    for i, key in enumerate(keys):
        if key is None:
            found.append([i])
        else:
            groups.setdefault(key, []).append(i)
    for group in groups.values():
        count = max(-(-len(group) // STACK), min(2, len(group) // 2))
        sizes = [len(part) for part in np.array_split(group, count)][::-1]  # as even as can be, the smaller first
        found += [part.tolist() for part in np.split(np.array(group), np.cumsum(sizes)[:-1])]
    return sorted(found)


def stackable(cfg: TrainConfig) -> bool:
    """Plain models on the CPU, trained for all their epochs. DP-SGD's per-sample gradients, a Split-AI ensemble
    (whose sub-models are stacked inside it) and early stopping's own last epoch each need a model of their own.
    CUDA is not measured here: there each model trains alone, and reference models by the vmap ensemble
    (`many.py`)."""
    return (cfg.resolved_device().type == "cpu" and not cfg.private and not cfg.split_models
            and not cfg.early_stopping)


def train_stacked(cfg: TrainConfig, data: list[Pair], seeds: list[int], *, tests: list[Pair | None] | None = None,
                  progress: ProgressFn = no_progress, stage: str = "models") -> list[tuple[nn.Module, list[EpochStats]]]:
    """Train len(seeds) models side by side, model m on data[m] = (x [N, 1, 28, 28], y [N]) with seed seeds[m],
    as `train_model` would, for all of `cfg.epochs`; with tests[m], model m's history has its accuracy there on
    the epochs `on_curve` picks, as `train_model` gives it (a target's test curve). Every model must have as many
    records (each step, every model takes a batch of the same size). Returns each model, in eval mode, and its
    history."""
    if not stackable(cfg):
        raise ValueError("only plain models on the CPU trained for all their epochs can be stacked")
    lengths = {len(y) for _, y in data}
    tests = tests or [None] * len(seeds)
    if len(data) != len(seeds) or len(tests) != len(seeds) or len(lengths) != 1:
        raise ValueError(f"stacked models need one seed each, a test set or None each, and as many records each; got"
                         f" {len(data)} models, {len(seeds)} seeds, {len(tests)} test sets and record counts"
                         f" {sorted(lengths)}")
    models, generators = [], []
    for seed in seeds:
        torch.manual_seed(seed)  # as `train_model`: the weights, then the dropout masks
        models.append(build_model(cfg.arch, dropout=cfg.dropout))
        generators.append(torch.Generator().set_state(torch.get_rng_state()))
    net = stack(models, generators).to(memory_format=LAYOUT)
    opt = FusedStep(net.parameters(), cfg)
    x = torch.stack([x[:, 0] for x, _ in data])  # -> [M, N, 28, 28]
    y = torch.stack([y for _, y in data])  # -> [M, N]
    orders = [torch.Generator().manual_seed(seed) for seed in seeds]  # each model's batch order, as alone
    n_models, n = y.shape
    rows = torch.arange(n_models)[:, None]
    histories = [[] for _ in seeds]
    for epoch in range(1, cfg.epochs + 1):
        net.train()
        order = torch.stack([torch.randperm(n, generator=g) for g in orders])  # -> [M, N]
        total_loss, correct = torch.zeros(n_models), torch.zeros(n_models, dtype=torch.long)
        for batch in order.split(cfg.batch_size, dim=1):  # -> [M, B]
            xb = x[rows, batch].transpose(0, 1).contiguous(memory_format=LAYOUT)  # -> [B, M, 28, 28]
            yb = y[rows, batch]  # -> [M, B]
            logits = net(xb)  # -> [M, B, 10]
            losses = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none",
                                     label_smoothing=cfg.label_smoothing).view(n_models, -1).mean(1)  # -> [M]
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()  # each model's weights get the gradient of its own mean loss
            opt.step()
            total_loss += losses.detach() * batch.shape[1]
            correct += (logits.argmax(2) == yb).sum(1)
        for m, (history, test) in enumerate(zip(histories, tests)):
            tested = test is not None and on_curve(epoch, cfg.epochs)
            if tested:
                unstack(net, models, only=m)  # its weights so far, into its own model, to ask it
            history.append(EpochStats(epoch, float(total_loss[m]) / n, int(correct[m]) / n,
                                      accuracy(models[m], *test) if tested else None))
        figures = {k: sum(shown(h[-1])[k] for h in histories) / n_models for k in ("loss", "train_acc")}
        figures.update({"test_acc": h[-1].test_accuracy for h in histories if h[-1].test_accuracy is not None})
        progress(Progress(stage, epoch, cfg.epochs, figures))  # the models' mean; a tested model's test accuracy
    unstack(net, models)
    return [(model.eval(), history) for model, history in zip(models, histories)]


class BatchedLinear(nn.Module):
    """M linear layers: [M, B, in] -> [M, B, out]."""

    def __init__(self, layers: list[nn.Linear]):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([layer.weight.detach().mT for layer in layers]))  # [M, in, out]
        self.bias = nn.Parameter(torch.stack([layer.bias.detach() for layer in layers])[:, None])  # [M, 1, out]

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, h, self.weight)


class Unflatten(nn.Module):
    """The step from convolutions to linear layers: [B, M*C, H, W] -> [M, B, C*H*W], each model's features in the
    order `nn.Flatten` gives them."""

    def __init__(self, n_models: int):
        super().__init__()
        self.n_models = n_models

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.reshape(h.shape[0], self.n_models, -1, *h.shape[2:]).flatten(2).transpose(0, 1)


class PerModelDropout(nn.Module):
    """Dropout on [M, B, F], model m's mask drawn from generators[m] as `F.dropout` draws it on the CPU."""

    def __init__(self, p: float, generators: list[torch.Generator]):
        super().__init__()
        self.p, self.generators = p, generators

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return h
        mask = torch.empty_like(h)
        for m, generator in enumerate(self.generators):
            mask[m].bernoulli_(1 - self.p, generator=generator)
        return h * mask.div_(1 - self.p)


def _leaves(model: nn.Module) -> list[nn.Module]:
    """The layers in the order a model of nested `nn.Sequential`s runs them."""
    return [m for m in model.modules() if not list(m.children())]


def stack(models: list[nn.Module], generators: list[torch.Generator]) -> nn.Sequential:
    """One network computing all of `models` (the same architecture, a stack of `nn.Sequential` layers) on
    [B, M, H, W] inputs, model m on channel m; it returns [M, B, classes]."""
    n_models, layers, flat = len(models), [], False
    for same in zip(*map(_leaves, models)):  # the same layer of every model
        first = same[0]
        if isinstance(first, nn.Conv2d) and not flat and first.groups == 1 and first.bias is not None:
            conv = nn.Conv2d(n_models * first.in_channels, n_models * first.out_channels, first.kernel_size,
                             stride=first.stride, padding=first.padding, dilation=first.dilation, groups=n_models)
            conv.weight = nn.Parameter(torch.cat([layer.weight.detach() for layer in same]))
            conv.bias = nn.Parameter(torch.cat([layer.bias.detach() for layer in same]))
            layers.append(conv)
        elif isinstance(first, (nn.MaxPool2d, nn.ReLU, nn.Tanh)):  # per channel or per value: as they are
            layers.append(first)
        elif isinstance(first, nn.Flatten) and not flat:
            layers.append(Unflatten(n_models))
            flat = True
        elif isinstance(first, nn.Linear) and flat and first.bias is not None:
            layers.append(BatchedLinear(same))
        elif isinstance(first, nn.Dropout) and flat:
            layers.append(PerModelDropout(first.p, generators))
        else:
            raise ValueError(f"no stacked form for {type(first).__name__} at this point of {type(models[0]).__name__}")
    return nn.Sequential(*layers)


@torch.no_grad()
def unstack(net: nn.Sequential, models: list[nn.Module], *, only: int | None = None) -> None:
    """Copy the trained weights of `stack(models)` back into `models` (or into models[only] alone), in the plain
    layout."""
    for layer, same in zip(net, zip(*map(_leaves, models))):
        if isinstance(layer, nn.Conv2d):
            parts = zip(same, layer.weight.chunk(len(models)), layer.bias.chunk(len(models)))
        elif isinstance(layer, BatchedLinear):
            parts = zip(same, layer.weight.mT, layer.bias[:, 0])
        else:
            continue
        for m, (model_layer, weight, bias) in enumerate(parts):
            if only is None or m == only:
                model_layer.weight.copy_(weight)
                model_layer.bias.copy_(bias)
