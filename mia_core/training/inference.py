"""Asking a trained model: logits, accuracy, loss. Always in eval mode, without gradients."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


@torch.no_grad()
def mean_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
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
