"""The fused Adam or SGD step of `torch.optim`, through its functional form (`torch.optim.adam.adam`,
`torch.optim.sgd.sgd`), the very function `torch.optim.Adam.step` and `torch.optim.SGD.step` call.

Why not the `torch.optim` classes: their `step`, `zero_grad` and constructor import torch's compiler
(`torch._dynamo`) on first use: about a second of a fresh process's start in which no model trains. The model
workers (`jobs/model_server.py`) fork from a process that has trained a tiny model, so every run of
`python -m mia_core run` paid it before its first model, and every job worker of the app on its first model. The weights come out bit for bit as the classes give them
(`tests/test_optimizer.py`). DP-SGD keeps `torch.optim`: Opacus wraps an optimiser object.
"""

import torch
from torch.optim.adam import adam
from torch.optim.sgd import sgd

from ..config import TrainConfig

BETAS = (0.9, 0.999)  # torch.optim.Adam's defaults, as every model here has used
EPS = 1e-8


class FusedStep:
    """`opt = FusedStep(params, cfg)`, then `opt.zero_grad()` and `opt.step()` as with the `torch.optim` class
    `cfg.optimizer` names, created with `lr`, `weight_decay` and `fused=True`."""

    def __init__(self, params, cfg: TrainConfig):
        self.params = list(params)
        self.cfg = cfg
        adam_state = cfg.optimizer == "adam"
        # Adam's state, as `torch.optim.Adam(fused=True)` makes it: a float32 step count per parameter, on its
        # device, and the two moments in the parameter's layout. Plain SGD has none.
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params if adam_state]
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params if adam_state]
        self.exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format)
                            for p in self.params if adam_state]

    def zero_grad(self, set_to_none: bool = True) -> None:
        if not set_to_none:
            raise ValueError("FusedStep clears gradients to None only (set_to_none=True)")
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        cfg = self.cfg
        grads = [p.grad for p in self.params]
        if cfg.optimizer == "sgd":
            sgd(self.params, grads, [None] * len(grads), fused=True, weight_decay=cfg.weight_decay, momentum=0.0,
                lr=cfg.lr, dampening=0.0, nesterov=False, maximize=False)
        else:
            adam(self.params, grads, self.exp_avgs, self.exp_avg_sqs, [], self.steps, fused=True, amsgrad=False,
                 beta1=BETAS[0], beta2=BETAS[1], lr=cfg.lr, weight_decay=cfg.weight_decay, eps=EPS, maximize=False)
