"""Split-AI (Tang et al. 2022): K plain sub-models, each trained without the members it leaves out."""

from dataclasses import replace

import numpy as np
import torch

from ..config import TrainConfig
from ..split_ai import SplitAI, split_assignment
from .inference import accuracy
from .loop import EpochStats, train_model


def train_split_ai(cfg: TrainConfig, x, y, *, seed: int, test, progress, stage):
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
