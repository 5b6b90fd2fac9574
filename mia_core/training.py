"""Training and querying one model. Deterministic on the CPU for a given seed."""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .config import TrainConfig
from .models import build_model
from .progress import Progress, ProgressFn, no_progress


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    loss: float  # mean training loss over the epoch's batches
    train_accuracy: float  # on the epoch's batches, in training mode
    test_accuracy: float | None  # on the held-out set, when one is given


def train_model(cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor, *, seed: int,
                test: tuple[torch.Tensor, torch.Tensor] | None = None,
                progress: ProgressFn = no_progress, stage: str = "train") -> tuple[nn.Module, list[EpochStats]]:
    """Train a fresh model on x [N, 1, 28, 28], y [N]; report each epoch through `progress`."""
    device = cfg.resolved_device()
    torch.manual_seed(seed)  # weights and dropout masks
    model = build_model(cfg.arch, dropout=cfg.dropout).to(device)
    opt_cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    order_rng = torch.Generator().manual_seed(seed)  # batch order
    x, y = x.to(device), y.to(device)
    history = []
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        total_loss, correct = 0.0, 0
        for batch in torch.randperm(len(y), generator=order_rng).split(cfg.batch_size):
            batch = batch.to(device)
            logits = model(x[batch])
            loss = F.cross_entropy(logits, y[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(batch)
            correct += (logits.argmax(1) == y[batch]).sum().item()
        test_acc = accuracy(model, *test) if test is not None else None
        stats = EpochStats(epoch, total_loss / len(y), correct / len(y), test_acc)
        history.append(stats)
        metrics = {"loss": stats.loss, "train_acc": stats.train_accuracy}
        if test_acc is not None:
            metrics["test_acc"] = test_acc
        progress(Progress(stage, epoch, cfg.epochs, metrics))
    model.eval()
    return model, history


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, *, batch_size: int = 256) -> np.ndarray:
    """Logits [N, C] as float64 numpy, in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model(b.to(device)).cpu() for b in x.split(batch_size)]).double().numpy()


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict_logits(model, x).argmax(1) == y.numpy()).mean())
