"""The baseline `bench` measures against: LeNet-5 as a textbook writes it (each convolution, then its activation, then
pooling; with ReLU this project's model pools first, which gives the same weights faster, so the baseline does not),
with the overfit preset's activation (tanh), trained as
plainly as PyTorch allows, with torch's default threads. `python -m benchmarks.plain_loop MODELS` trains MODELS of
them one after another, on the overfit preset's settings, and prints the training's seconds."""

import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mia_core.config import preset
from mia_core.data import load_embedded


ACTIVATIONS = {"lenet5": nn.ReLU, "lenet5_tanh": nn.Tanh}


def lenet5(activation: type[nn.Module]) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), activation(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), activation(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), activation(), nn.Linear(120, 84), activation(), nn.Linear(84, 10))


def train_plainly(models: int) -> float:
    cfg = preset("overfit")
    digits = load_embedded()
    x, y = digits.tensors(np.arange(models * cfg.train_size) % len(digits))
    start = time.perf_counter()
    for m in range(models):
        torch.manual_seed(m)
        model = lenet5(ACTIVATIONS[cfg.train.arch])
        opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
        xm, ym = x[m * cfg.train_size:(m + 1) * cfg.train_size], y[m * cfg.train_size:(m + 1) * cfg.train_size]
        for _ in range(cfg.train.epochs):
            for batch in torch.randperm(cfg.train_size).split(cfg.train.batch_size):
                loss = F.cross_entropy(model(xm[batch]), ym[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
    return time.perf_counter() - start


if __name__ == "__main__":
    print(train_plainly(int(sys.argv[1])))
