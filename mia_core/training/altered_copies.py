"""What a label-only attacker asks a model: altered copies of each record, answered with a class only.

Choquette-Choo et al. (2021) query augmentations of a record (a model that trained on it keeps its
label under more of them) and estimate its distance to the decision boundary, for which Gaussian
noise is their cheap proxy. Digits are not flipped, so the augmentations here are translations.
Every model is asked every setting (`attacks.label_only`: shifts of up to 1 and 2 pixels, noise of
a few sizes); the attack chooses one on the attacker's shadow models.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..attacks.label_only import NOISE_COPIES, NOISE_STDS, SHIFTS
from ..data import MNIST_MEAN, MNIST_STD
from .inference import predict_logits

BACKGROUND = (0.0 - MNIST_MEAN) / MNIST_STD  # a black pixel, normalised as the models see it


def shifted(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """x [N, 1, 28, 28] moved dx pixels right and dy down; what moves in is black."""
    m = max(abs(dx), abs(dy), 1)
    padded = F.pad(x, (m, m, m, m), value=BACKGROUND)  # -> [N, 1, 28 + 2m, 28 + 2m]
    return padded[..., m - dy:m - dy + 28, m - dx:m - dx + 28]


def label_answers(model: nn.Module, x: torch.Tensor, *, seed: int = 0) -> np.ndarray:
    """The target's class for every altered copy of every record: x [N, 1, 28, 28] -> [N, QUERY_COUNT], in the
    column layout of `attacks.label_only`: the shifted copies, then the noisy ones of each size (seeded; a noise std
    of 1.0 in normalised units is about 0.3 of the pixel range)."""
    generator = torch.Generator().manual_seed(seed)
    answers = [predict_logits(model, shifted(x, dx, dy)).argmax(1) for dx, dy in SHIFTS]
    answers += [predict_logits(model, x + std * torch.randn(x.shape, generator=generator)).argmax(1)
                for std in NOISE_STDS for _ in range(NOISE_COPIES)]  # one copy in memory at a time
    return np.stack(answers, axis=1)
