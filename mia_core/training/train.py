"""One model of any configuration: a plain model from the training loop (`loop.py`), or a Split-AI ensemble
(`split.py`, whose sub-models the loop trains)."""

import torch
from torch import nn

from ..config import TrainConfig
from ..progress import ProgressFn, no_progress
from .loop import EpochStats, Pair, train_plain
from .split import train_split_ai


def train_model(cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor, *, seed: int,
                test: Pair | None = None, validation: Pair | None = None,
                progress: ProgressFn = no_progress, stage: str = "train") -> tuple[nn.Module, list[EpochStats]]:
    """Train a fresh model on x [N, 1, 28, 28], y [N] (`loop.train_plain` says how); with `cfg.split_models` > 0
    the result is a `SplitAI` ensemble."""
    if cfg.split_models:
        return train_split_ai(cfg, x, y, seed=seed, test=test, progress=progress, stage=stage)
    return train_plain(cfg, x, y, seed=seed, test=test, validation=validation, progress=progress, stage=stage)
