"""Split-AI (Tang et al. 2022): K plain sub-models, each trained without the members it leaves out."""

from dataclasses import replace

import numpy as np
import torch

from ..config import TrainConfig
from .inference import accuracy
from .loop import EpochStats, train_plain
from .split_ai import SplitAI, split_assignment
from .stacked import stackable, stacks, train_stacked


def train_split_ai(cfg: TrainConfig, x, y, *, seed: int, test, progress, stage):
    """K plain sub-models, sub-model k on the members it does not exclude; those with as many members train side
    by side (`stacked.py`). The history is their per-epoch mean, with the ensemble's test accuracy on the last
    epoch only (per-epoch test accuracy of K sub-models would cost as much as training them)."""
    excluded = torch.as_tensor(split_assignment(len(y), models=cfg.split_models, held_out=cfg.split_held_out,
                                                seed=seed))  # -> [K, N]
    plain = replace(cfg, split_models=0)
    sizes = (~excluded).sum(1).tolist()
    trained = {}
    for task in stacks([size if stackable(plain) else None for size in sizes]):
        parts = [(x[~excluded[k]], y[~excluded[k]]) for k in task]
        seeds = [seed * 1_009 + k for k in task]
        stages = [f"{stage} part {k + 1}/{cfg.split_models}" for k in task]
        if len(task) == 1:
            trained[task[0]] = train_plain(plain, *parts[0], seed=seeds[0], progress=progress, stage=stages[0])
        else:
            trained.update(zip(task, train_stacked(plain, parts, seeds, progress=progress, stage=" + ".join(stages))))
    models, histories = zip(*(trained[k] for k in range(cfg.split_models)))
    ensemble = SplitAI(models, held_out=cfg.split_held_out, members=len(y), seed=seed).to(cfg.resolved_device())
    ensemble.remember(x, excluded).eval()
    history = [EpochStats(epoch[0].epoch, float(np.mean([h.loss for h in epoch])),
                          float(np.mean([h.train_accuracy for h in epoch])), None) for epoch in zip(*histories)]
    if test is not None:
        history[-1] = replace(history[-1], test_accuracy=accuracy(ensemble, *test))
    return ensemble, history
