"""Train many small models at once: `torch.func.stack_module_state` + `vmap`.

Every model has its own weights, data subset, batch order and dropout masks; one
optimiser step updates all of them. Adam and weight decay act element-wise, so each
model follows the same kind of trajectory it would alone.
"""

import copy

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.nn import functional as F

from ..config import TrainConfig
from ..models import build_model
from ..progress import Progress, ProgressFn, no_progress
from .train import train_model


def balanced_keep(n_models: int, n_examples: int, *, per_model: int | None = None, seed: int) -> np.ndarray:
    """keep[m, i]: model m trains on example i. Each model takes `per_model` examples (default half),
    those in the fewest models so far, ties broken at random: every example ends up in as equal a
    share of the models as the counts allow. At half, models come in complementary pairs."""
    per_model = n_examples // 2 if per_model is None else per_model
    if not 0 < per_model < n_examples:
        raise ValueError(f"each model must leave some of the {n_examples} examples out, got {per_model} per model")
    rng = np.random.default_rng([seed, 3])
    keep = np.zeros((n_models, n_examples), bool)
    for m in range(n_models):
        chosen = np.lexsort((rng.random(n_examples), keep.sum(axis=0)))[:per_model]  # fewest first, random ties
        keep[m, chosen] = True
    return keep


def uses_vmap_ensemble(cfg: TrainConfig) -> bool:
    """On CUDA, plain models train faster all at once; on the CPU one model per core wins (`bench`)."""
    return cfg.resolved_device().type == "cuda" and not cfg.private and not cfg.split_models and not cfg.early_stopping


def train_many(cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor, keep: np.ndarray, *, seed: int,
               validation: tuple[torch.Tensor, torch.Tensor] | None = None,
               progress: ProgressFn = no_progress, stage: str = "references") -> list[nn.Module]:
    """Train len(keep) models, all at once with vmap on CUDA; on the CPU one after another,
    which measured as fast or faster there (see `python -m benchmarks.bench`). DP-SGD, Split-AI and
    early-stopping models are always trained one after another: each needs its own accounting,
    sub-models or stopping epoch."""
    if uses_vmap_ensemble(cfg):
        return train_ensemble(cfg, x, y, keep, seed=seed, progress=progress, stage=stage)
    return train_sequential(cfg, x, y, keep, seed=seed, validation=validation, progress=progress, stage=stage)


def train_sequential(cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor, keep: np.ndarray, *, seed: int,
                     validation: tuple[torch.Tensor, torch.Tensor] | None = None,
                     progress: ProgressFn = no_progress, stage: str = "references") -> list[nn.Module]:
    models = []
    for m, k in enumerate(keep):
        model, _ = train_model(cfg, x[k], y[k], seed=seed * 10_007 + m, validation=validation, progress=progress,
                               stage=f"{stage} {m + 1}/{len(keep)}")
        models.append(model)
    return models


def train_ensemble(cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor, keep: np.ndarray, *, seed: int,
                   progress: ProgressFn = no_progress, stage: str = "references") -> list[nn.Module]:
    """Train len(keep) models; model m on the rows of x [P, 1, 28, 28], y [P] where keep[m]."""
    device = cfg.resolved_device()
    n_models = len(keep)
    models = []
    for m in range(n_models):
        torch.manual_seed(seed * 10_007 + m)  # each model its own initial weights
        models.append(build_model(cfg.arch, dropout=cfg.dropout).to(device))
    params, buffers = stack_module_state(models)  # name -> [M, ...]
    skeleton = copy.deepcopy(models[0]).to("meta")

    def forward(p, b, xb):
        return functional_call(skeleton, (p, b), (xb,))

    batched = vmap(forward, randomness="different")  # -> [M, B, 10]
    opt_cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(params.values(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    subsets = [torch.as_tensor(np.flatnonzero(k)) for k in keep]
    length = max(len(s) for s in subsets)
    order_rng = torch.Generator().manual_seed(seed)
    x, y = x.to(device), y.to(device)
    torch.manual_seed(seed)  # dropout masks
    for epoch in range(1, cfg.epochs + 1):
        # Each model its own shuffled subset; a shorter subset wraps around to the common length.
        orders = torch.stack([s[torch.randperm(len(s), generator=order_rng)].repeat(-(-length // len(s)))[:length]
                              for s in subsets]).to(device)  # -> [M, length]
        total = 0.0
        for start in range(0, length, cfg.batch_size):
            idx = orders[:, start:start + cfg.batch_size]  # -> [M, B]
            logits = batched(params, buffers, x[idx])  # x[idx] -> [M, B, 1, 28, 28]
            # Sum over models of each model's mean loss: every model gets its own gradient.
            loss = F.cross_entropy(logits.flatten(0, 1), y[idx].flatten(),
                                   label_smoothing=cfg.label_smoothing) * n_models
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
        progress(Progress(stage, epoch, cfg.epochs, {"loss": total / n_models / -(-length // cfg.batch_size)}))
    for m, model in enumerate(models):  # unstack: model m gets row m of every stacked tensor
        model.load_state_dict({name: t[m].detach().clone() for name, t in {**params, **buffers}.items()})
        model.eval()
    return models
