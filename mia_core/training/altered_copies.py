"""What a label-only attacker asks a model: altered copies of each record, answered with a class only.

Choquette-Choo et al. (2021) query augmentations of a record (a model that trained on it keeps its
label under more of them) and estimate its distance to the decision boundary, for which Gaussian
noise is their cheap proxy. Digits are not flipped, so the augmentations here are translations.
Measured on the overfit preset (seed 0, statistic AUC without shadows): shifts of up to 1 pixel 0.604,
2 pixels 0.567, 3 pixels 0.562; noise of std 0.5 / 1.0 / 2.0 (normalised units) 0.622 / 0.629 / 0.582.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..attacks.label_only import NOISE_COPIES, SHIFTS
from ..data import MNIST_MEAN, MNIST_STD
from .inference import predict_logits

NOISE_STD = 1.0  # in normalised units: about 0.3 of the pixel range
BACKGROUND = (0.0 - MNIST_MEAN) / MNIST_STD  # a black pixel, normalised as the models see it


def shifted(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """x [N, 1, 28, 28] moved dx pixels right and dy down; what moves in is black."""
    m = max(abs(dx), abs(dy), 1)
    padded = F.pad(x, (m, m, m, m), value=BACKGROUND)  # -> [N, 1, 28 + 2m, 28 + 2m]
    return padded[..., m - dy:m - dy + 28, m - dx:m - dx + 28]


def label_answers(model: nn.Module, x: torch.Tensor, *, seed: int = 0) -> np.ndarray:
    """The target's class for every altered copy of every record: x [N, 1, 28, 28] -> [N, 9 + 30], in the
    column layout of `attacks.label_only.QUERIES`: the shifted copies, then the noisy ones (seeded)."""
    generator = torch.Generator().manual_seed(seed)
    copies = [shifted(x, dx, dy) for dx, dy in SHIFTS]
    copies += [x + NOISE_STD * torch.randn(x.shape, generator=generator) for _ in range(NOISE_COPIES)]
    return np.stack([predict_logits(model, c).argmax(1) for c in copies], axis=1)
