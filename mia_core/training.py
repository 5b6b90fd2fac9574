"""Training and querying one model. Deterministic on the CPU for a given seed.

Every defence is a training setting: dropout and L2 (in the model and optimiser), label
smoothing (in the loss), early stopping (on a validation set), DP-SGD through Opacus
(per-sample clipping and noise; the epsilon spent is reported each epoch), and Split-AI
(an ensemble of sub-models, each trained without some of the members).
"""

import copy
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .config import TrainConfig
from .models import build_model
from .progress import Progress, ProgressFn, no_progress
from .split_ai import SplitAI, split_assignment

Pair = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    loss: float  # mean training loss over the epoch's batches
    train_accuracy: float  # on the epoch's batches, in training mode
    test_accuracy: float | None  # on the held-out set, when one is given
    val_loss: float | None = None  # on the validation set, when early stopping is on
    epsilon: float | None = None  # DP-SGD: the privacy spent so far, at the configured delta


def _plain_batches(x, y, batch_size: int, rng: torch.Generator) -> Iterator[Pair]:
    for batch in torch.randperm(len(y), generator=rng).split(batch_size):
        batch = batch.to(x.device)
        yield x[batch], y[batch]


def _make_private(cfg: TrainConfig, model, opt, x, y, seed: int):
    """Opacus: Poisson-sampled batches, per-sample clipping, Gaussian noise, an RDP accountant."""
    from opacus import PrivacyEngine

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=cfg.batch_size,
                                         generator=torch.Generator().manual_seed(seed))
    with warnings.catch_warnings():  # Opacus warns that secure_mode is off: fine for a demonstration
        warnings.simplefilter("ignore")
        engine = PrivacyEngine(accountant="rdp")
        if cfg.dp_epsilon is not None:
            model, opt, loader = engine.make_private_with_epsilon(
                module=model, optimizer=opt, data_loader=loader, target_epsilon=cfg.dp_epsilon,
                target_delta=cfg.dp_delta, epochs=cfg.epochs, max_grad_norm=cfg.dp_max_grad_norm)
        else:
            model, opt, loader = engine.make_private(
                module=model, optimizer=opt, data_loader=loader, noise_multiplier=cfg.dp_noise,
                max_grad_norm=cfg.dp_max_grad_norm)
    return model, opt, loader, engine


def train_model(cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor, *, seed: int,
                test: Pair | None = None, validation: Pair | None = None,
                progress: ProgressFn = no_progress, stage: str = "train") -> tuple[nn.Module, list[EpochStats]]:
    """Train a fresh model on x [N, 1, 28, 28], y [N]; report each epoch through `progress`.

    With `cfg.early_stopping` > 0 and a `validation` set, training stops once the validation
    loss has not improved for that many epochs, and the best epoch's weights are kept.
    With `cfg.split_models` > 0 the result is a `SplitAI` ensemble.
    """
    if cfg.split_models:
        return _train_split_ai(cfg, x, y, seed=seed, test=test, progress=progress, stage=stage)
    device = cfg.resolved_device()
    torch.manual_seed(seed)  # weights, dropout masks and DP noise
    model = build_model(cfg.arch, dropout=cfg.dropout).to(device)
    opt_cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    x, y = x.to(device), y.to(device)
    engine = None
    if cfg.private:
        model, opt, loader, engine = _make_private(cfg, model, opt, x, y, seed)
        epoch_batches = lambda: iter(loader)  # noqa: E731
    else:
        order_rng = torch.Generator().manual_seed(seed)  # batch order
        epoch_batches = lambda: _plain_batches(x, y, cfg.batch_size, order_rng)  # noqa: E731
    with warnings.catch_warnings():
        # Opacus's per-sample hooks fire on a first layer whose input needs no gradient: expected.
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        history, best_state = _run_epochs(cfg, model, opt, epoch_batches, engine, test, validation, progress, stage)
    model = _unwrap(model)
    if best_state is not None:  # early stopping keeps the best epoch, not the last
        model.load_state_dict(best_state)
    model.eval()
    return model, history


def _train_split_ai(cfg: TrainConfig, x, y, *, seed: int, test, progress, stage):
    """K plain sub-models, sub-model k on the members it does not exclude. The history is their
    per-epoch mean, with the ensemble's test accuracy on the last epoch only (per-epoch test
    accuracy of K sub-models would cost as much as training them)."""
    excluded = split_assignment(len(y), models=cfg.split_models, held_out=cfg.split_held_out, seed=seed)
    plain = replace(cfg, split_models=0)
    models, histories = [], []
    for k, out in enumerate(torch.as_tensor(excluded)):
        model, history = train_model(plain, x[~out], y[~out], seed=seed * 1_009 + k, progress=progress,
                                     stage=f"{stage} part {k + 1}/{cfg.split_models}")
        models.append(model)
        histories.append(history)
    ensemble = SplitAI(models, held_out=cfg.split_held_out, members=len(y), seed=seed).to(cfg.resolved_device())
    ensemble.remember(x, excluded).eval()
    history = [EpochStats(epoch[0].epoch, float(np.mean([h.loss for h in epoch])),
                          float(np.mean([h.train_accuracy for h in epoch])), None) for epoch in zip(*histories)]
    if test is not None:
        history[-1] = replace(history[-1], test_accuracy=accuracy(ensemble, *test))
    return ensemble, history


def _run_epochs(cfg, model, opt, epoch_batches, engine, test, validation, progress, stage):
    """The training loop proper. Returns the history and, with early stopping, the best weights."""
    history, best_loss, best_state, since_best = [], float("inf"), None, 0
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        for xb, yb in epoch_batches():
            if len(yb) == 0:  # Poisson sampling can draw an empty batch
                continue
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            seen += len(yb)
        val_loss = _loss(model, *validation) if validation is not None and cfg.early_stopping else None
        stats = EpochStats(epoch, total_loss / max(seen, 1), correct / max(seen, 1),
                           accuracy(model, *test) if test is not None else None, val_loss,
                           engine.get_epsilon(cfg.dp_delta) if engine else None)
        history.append(stats)
        progress(Progress(stage, epoch, cfg.epochs, _shown(stats)))
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


def _shown(stats: EpochStats) -> dict:
    names = {"loss": stats.loss, "train_acc": stats.train_accuracy, "test_acc": stats.test_accuracy,
             "val_loss": stats.val_loss, "epsilon": stats.epsilon}
    return {k: v for k, v in names.items() if v is not None}


@torch.no_grad()
def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    logits = torch.as_tensor(predict_logits(model, x))
    return float(F.cross_entropy(logits, y.to(logits.device).long()))


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, *, batch_size: int = 256) -> np.ndarray:
    """Logits [N, C] as float64 numpy, in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model(b.to(device)).cpu() for b in x.split(batch_size)]).double().numpy()


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict_logits(model, x).argmax(1) == y.cpu().numpy()).mean())
