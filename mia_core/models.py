"""The target architectures: LeNet-5 and the seed project's LeNet variant.

Both are Opacus-compatible (no batch norm) and take [B, 1, 28, 28] images.

Where the activation is ReLU, each convolution is pooled before it, not after: max-pooling and ReLU commute
exactly (ReLU is monotone and max picks one input), forward and backward, so a model trains to the same weights
bit for bit, and the ReLU and its gradient work on a quarter of the values (the first layer's are among the larger
memory-bound steps of a training step on a CPU thread). The layers keep their indices: saved weights load either way.
"""

from functools import partial

import torch
from torch import nn


def _pooled(activation: type[nn.Module]) -> tuple[nn.Module, nn.Module]:
    """A convolution's activation and 2x2 max-pooling, pooled first where that gives the same numbers (ReLU).
    tanh keeps its order: its rounding can tie values that differ, and the gradient would then pick another."""
    if activation is nn.ReLU:
        return nn.MaxPool2d(2), nn.ReLU()
    return activation(), nn.MaxPool2d(2)


class LeNet5(nn.Module):
    """LeCun et al. 1998: conv 6 and 16 filters of 5x5, pooling, then 120-84-10.

    `activation` is ReLU by default; tanh trains markedly better under DP-SGD, whose clipped,
    noisy gradients suit bounded activations (Papernot et al. 2021, "Tempered Sigmoid Activations").
    """

    def __init__(self, *, dropout: float = 0.0, num_classes: int = 10, activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), *_pooled(activation),  # -> [B, 6, 14, 14]
            nn.Conv2d(6, 16, 5), *_pooled(activation),  # -> [B, 16, 5, 5]
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),  # -> [B, 400]
            nn.Linear(400, 120), activation(), nn.Dropout(dropout),
            nn.Linear(120, 84), activation(), nn.Dropout(dropout),
            nn.Linear(84, num_classes),  # -> [B, 10] logits
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class SeedLeNet(nn.Module):
    """The seed repository's "LeNet", kept for reproduction (61,610 parameters).

    conv 1->6 (3x3, padding 1), pool; conv 6->16 (5x5), pool; fc 400->120 with no
    ReLU, 120->84 with ReLU, 84->10. The seed put Dropout(0.5) between the fully
    connected layers; here its rate is the configured `dropout`.
    """

    def __init__(self, *, dropout: float = 0.0, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 3, padding=1), *_pooled(nn.ReLU),  # -> [B, 6, 14, 14]
            nn.Conv2d(6, 16, 5), *_pooled(nn.ReLU),  # -> [B, 16, 5, 5]
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(400, 120), nn.Dropout(dropout),
            nn.Linear(120, 84), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


ARCHITECTURES = {"lenet5": LeNet5, "lenet5_tanh": partial(LeNet5, activation=nn.Tanh), "seed_lenet": SeedLeNet}


def build_model(arch: str, *, dropout: float = 0.0) -> nn.Module:
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch](dropout=dropout)
