"""Several models of one architecture trained as one network on a CPU thread: their convolutions become one
grouped convolution, their linear layers one batched matrix product.

Why: LeNet-5's convolutions have 6 and 16 channels, which fill less than half of a CPU's vector registers, and
every training step of so small a model pays the same fixed costs in Python and PyTorch's dispatcher. Side by side,
models share both (`python -m mia_core bench` gives the models/s).

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
from .loop import LAYOUT, EpochStats, Pair, _shown


STACK = 4  # the most models trained side by side: on a CPU thread, stacks of 2 to 4 each trained at about 1.5x the
# models/s of one model alone in trials; `python -m mia_core bench` measures the overfit preset's 4 + 4


def stacks(keys: list[Hashable | None]) -> list[list[int]]:
    """Which of len(keys) models train together, as lists of their indices. Models with the same key (None: a model
    that cannot be stacked) train side by side, in the order they come, in as few stacks of at most STACK as there
    can be, but in two from four models up, so that two workers (what the 2-core machine these defaults are for
    has) both get some; the stacks are as even as they can be, and none holds one model unless it is the only
    one. Any other model trains alone. The lists come in the order of their first index. They depend on the keys
    alone, never on the machine: the overfit preset's 8 shadows train in two stacks of 4 whatever runs them."""
    found, groups = [], {}
    for i, key in enumerate(keys):
        if key is None:
            found.append([i])
        else:
            groups.setdefault(key, []).append(i)
    for group in groups.values():
        count = max(-(-len(group) // STACK), min(2, len(group) // 2))
        found += [part.tolist() for part in np.array_split(group, count)]
    return sorted(found)


def stackable(cfg: TrainConfig) -> bool:
    """Plain models on the CPU, trained for all their epochs. DP-SGD's per-sample gradients, a Split-AI ensemble
    (whose sub-models are stacked inside it) and early stopping's own last epoch each need a model of their own.
    CUDA is not measured here: there each model trains alone, and reference models by the vmap ensemble
    (`many.py`)."""
    return (cfg.resolved_device().type == "cpu" and not cfg.private and not cfg.split_models
            and not cfg.early_stopping)


def train_stacked(cfg: TrainConfig, data: list[Pair], seeds: list[int], *, progress: ProgressFn = no_progress,
                  stage: str = "models") -> list[tuple[nn.Module, list[EpochStats]]]:
    """Train len(seeds) models side by side, model m on data[m] = (x [N, 1, 28, 28], y [N]) with seed seeds[m],
    as `train_model` would, for all of `cfg.epochs`. Every model must have as many records (each step, every
    model takes a batch of the same size). Returns each model, in eval mode, and its history."""
    if not stackable(cfg):
        raise ValueError("only plain models on the CPU trained for all their epochs can be stacked")
    lengths = {len(y) for _, y in data}
    if len(data) != len(seeds) or len(lengths) != 1:
        raise ValueError(f"stacked models need one seed each and as many records each; got {len(seeds)} seeds and"
                         f" record counts {sorted(lengths)}")
    models, generators = [], []
    for seed in seeds:
        torch.manual_seed(seed)  # as `train_model`: the weights, then the dropout masks
        models.append(build_model(cfg.arch, dropout=cfg.dropout))
        generators.append(torch.Generator().set_state(torch.get_rng_state()))
    net = stack(models, generators).to(memory_format=LAYOUT)
    opt_cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
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
        for m, history in enumerate(histories):
            history.append(EpochStats(epoch, float(total_loss[m]) / n, int(correct[m]) / n, None))
        shown = {k: sum(_shown(h[-1])[k] for h in histories) / n_models for k in ("loss", "train_acc")}
        progress(Progress(stage, epoch, cfg.epochs, shown))  # the models' mean
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
def unstack(net: nn.Sequential, models: list[nn.Module]) -> None:
    """Copy the trained weights of `stack(models)` back into `models`, in the plain layout."""
    for layer, same in zip(net, zip(*map(_leaves, models))):
        if isinstance(layer, nn.Conv2d):
            for model_layer, weight, bias in zip(same, layer.weight.chunk(len(models)), layer.bias.chunk(len(models))):
                model_layer.weight.copy_(weight)
                model_layer.bias.copy_(bias)
        elif isinstance(layer, BatchedLinear):
            for model_layer, weight, bias in zip(same, layer.weight, layer.bias):
                model_layer.weight.copy_(weight.mT)
                model_layer.bias.copy_(bias[0])
