"""The training loop: one model, deterministic on the CPU for a given seed (and thread count).

Every defence is a training setting: dropout and L2 (in the model and optimiser), label smoothing (in
the loss), early stopping (on a validation set) and DP-SGD (`dp.py`); Split-AI (`split.py`) trains its sub-models here.
"""

import copy
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..config import TrainConfig
from ..models import build_model
from ..progress import Progress, ProgressFn, no_progress
from .dp import make_private
from .inference import accuracy, mean_loss
from .optimizer import FusedStep

Pair = tuple[torch.Tensor, torch.Tensor]
CURVE_POINTS = 10  # test-set evaluations per training run: enough for the curve, and each costs as much as an epoch
# Channels-last activations and a fused optimiser step train LeNet-5 faster on a CPU thread, mostly because
# max-pooling is slow in the plain layout (`python -m benchmarks.bench` gives the figures). Both change the weights'
# last bits, not what a model learns.
LAYOUT = torch.channels_last


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    loss: float  # mean training loss over the epoch's batches
    train_accuracy: float  # on the epoch's batches, in training mode
    test_accuracy: float | None  # on the held-out set, when one is given and this epoch is on the curve
    val_loss: float | None = None  # on the validation set, when early stopping is on
    epsilon: float | None = None  # DP-SGD: the privacy spent so far, at the configured delta


def _plain_batches(x, y, batch_size: int, rng: torch.Generator) -> Iterator[Pair]:
    for batch in torch.randperm(len(y), generator=rng).split(batch_size):
        batch = batch.to(x.device)
        yield x[batch], y[batch]


def on_curve(epoch: int, epochs: int) -> bool:
    """Whether the test set is evaluated after `epoch`: the first, every epochs/CURVE_POINTS, and the last."""
    return epoch in (1, epochs) or epoch % math.ceil(epochs / CURVE_POINTS) == 0


def train_plain(cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor, *, seed: int,
                test: Pair | None = None, validation: Pair | None = None,
                progress: ProgressFn = no_progress, stage: str = "train") -> tuple[nn.Module, list[EpochStats]]:
    """Train one fresh model (`cfg.split_models` is not read: `train.train_model` picks Split-AI) on
    x [N, 1, 28, 28], y [N]; report each epoch through `progress`, with the accuracy on `test` on the
    epochs `on_curve` picks.

    With `cfg.early_stopping` > 0 and a `validation` set, training stops once the validation
    loss has not improved for that many epochs, and the best epoch's weights are kept.
    """
    device = cfg.resolved_device()
    torch.manual_seed(seed)  # weights, dropout masks and DP noise
    model = build_model(cfg.arch, dropout=cfg.dropout).to(device)
    x, y = x.to(device), y.to(device)
    engine = None
    if cfg.private:  # Opacus's per-sample gradients: the plain layout, and an optimiser object for it to wrap
        opt_cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
        opt = opt_cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        model, opt, loader, engine = make_private(cfg, model, opt, x, y, seed)
        epoch_batches = lambda: iter(loader)  # noqa: E731
    else:
        model, x = model.to(memory_format=LAYOUT), x.contiguous(memory_format=LAYOUT)
        opt = FusedStep(model.parameters(), cfg)
        order_rng = torch.Generator().manual_seed(seed)  # batch order
        epoch_batches = lambda: _plain_batches(x, y, cfg.batch_size, order_rng)  # noqa: E731
    with warnings.catch_warnings():
        # Opacus's per-sample hooks fire on a first layer whose input needs no gradient: expected.
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        history, best_state = _run_epochs(cfg, model, opt, epoch_batches, engine, test, validation, progress, stage)
    model = _unwrap(model).to(memory_format=torch.contiguous_format)  # stored and queried in the plain layout
    if best_state is not None:  # early stopping keeps the best epoch, not the last
        model.load_state_dict(best_state)
    model.eval()
    return model, history


def _run_epochs(cfg, model, opt, epoch_batches, engine, test, validation, progress, stage):
    """The training loop proper. Returns the history and, with early stopping, the best weights."""
    history, best_loss, best_state, since_best = [], float("inf"), None, 0
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        total_loss, correct, seen = torch.zeros(()), torch.zeros((), dtype=torch.long), 0  # summed as tensors
        for xb, yb in epoch_batches():
            if len(yb) == 0:  # Poisson sampling can draw an empty batch
                continue
            logits = model(xb)  # -> [B, 10]
            loss = F.cross_entropy(logits, yb, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total_loss += loss.detach().cpu() * len(yb)
            correct += (logits.argmax(1) == yb).sum().cpu()
            seen += len(yb)
        val_loss = mean_loss(model, *validation) if validation is not None and cfg.early_stopping else None
        tested = test is not None and on_curve(epoch, cfg.epochs)
        stats = EpochStats(epoch, float(total_loss) / max(seen, 1), int(correct) / max(seen, 1),
                           accuracy(model, *test) if tested else None, val_loss,
                           engine.get_epsilon(cfg.dp_delta) if engine else None)
        history.append(stats)
        progress(Progress(stage, epoch, cfg.epochs, shown(stats)))
        if val_loss is not None:
            if val_loss < best_loss:
                best_loss, best_state, since_best = val_loss, copy.deepcopy(_unwrap(model).state_dict()), 0
            else:
                since_best += 1
                if since_best >= cfg.early_stopping:
                    progress(Progress(stage, cfg.epochs, cfg.epochs, {"stopped_at_epoch": epoch}))
                    break
    return history, best_state


def _unwrap(model: nn.Module) -> nn.Module:
    """Opacus wraps the model in a GradSampleModule; the plain LeNet is inside."""
    return getattr(model, "_module", model)


def shown(stats: EpochStats) -> dict:
    """An epoch's figures as a progress event shows them."""
    names = {"loss": stats.loss, "train_acc": stats.train_accuracy, "test_acc": stats.test_accuracy,
             "val_loss": stats.val_loss, "epsilon": stats.epsilon}
    return {k: v for k, v in names.items() if v is not None}
