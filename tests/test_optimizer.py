"""training/optimizer.py: the fused step of torch.optim's functional form, without torch.optim's classes."""

import subprocess
import sys

import pytest
import torch
from torch.nn import functional as F

from mia_core.config import TrainConfig
from mia_core.models import build_model
from mia_core.training.optimizer import FusedStep


def _trained(cfg: TrainConfig, make_optimiser) -> dict:
    torch.manual_seed(0)
    model = build_model(cfg.arch, dropout=cfg.dropout).to(memory_format=torch.channels_last)
    x, y = torch.rand(64, 1, 28, 28).contiguous(memory_format=torch.channels_last), torch.arange(64) % 10
    opt = make_optimiser(model.parameters())
    for _ in range(5):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model.state_dict()


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_the_step_gives_the_torch_optim_class_s_weights_bit_for_bit(optimizer):
    """The reference is the `torch.optim` class, fused, with the same learning rate and weight decay."""
    cfg = TrainConfig(optimizer=optimizer, lr=3e-3, weight_decay=1e-3, dropout=0.3, device="cpu")
    cls = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    reference = _trained(cfg, lambda params: cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True))
    ours = _trained(cfg, lambda params: FusedStep(params, cfg))
    for name, weight in reference.items():
        assert torch.equal(ours[name], weight), name
    initial = _trained(cfg, lambda params: _NoStep())
    assert not torch.equal(ours["features.0.weight"], initial["features.0.weight"])  # it did train


class _NoStep:
    def zero_grad(self, set_to_none=True):
        pass

    def step(self):
        pass


def test_training_a_model_imports_no_compiler():
    """What the step is for: a fresh process that trains a model never loads torch._dynamo (about a second)."""
    code = ("import sys, torch; from mia_core.config import TrainConfig; from mia_core.training import train_model;"
            "train_model(TrainConfig(epochs=1, device='cpu'), torch.rand(8, 1, 28, 28), torch.arange(8), seed=0);"
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_gradients_are_only_ever_cleared_to_none():
    with pytest.raises(ValueError, match="set_to_none"):
        FusedStep([torch.zeros(2, requires_grad=True)], TrainConfig()).zero_grad(set_to_none=False)
