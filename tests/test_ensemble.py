import numpy as np
import pytest
import torch

from mia_core.config import TrainConfig
from mia_core.ensemble import balanced_keep, train_ensemble, train_many, train_sequential
from mia_core.training import accuracy


@pytest.fixture(scope="module")
def pool(digits):
    index = np.random.default_rng(0).permutation(len(digits))[:200]
    return digits.tensors(index)


def test_vmap_ensemble_trains_each_model_on_its_own_half_like_sequential_training(pool):
    x, y = pool
    keep = balanced_keep(4, len(y), seed=0)
    cfg = TrainConfig(epochs=40, device="cpu")
    models = train_ensemble(cfg, x, y, keep, seed=0)
    reference = train_sequential(cfg, x, y, keep, seed=0)  # one model after another: the reference
    assert len(models) == 4
    held_out = {"ensemble": [], "sequential": []}
    for kind, group in (("ensemble", models), ("sequential", reference)):
        for model, k in zip(group, keep):
            assert accuracy(model, x[k], y[k]) == 1.0  # it memorised its own half...
            held_out[kind].append(accuracy(model, x[~k], y[~k]))  # ...and generalises to the other
    assert np.mean(held_out["ensemble"]) == pytest.approx(np.mean(held_out["sequential"]), abs=0.05)
    first = [p.detach() for p in models[0].parameters()]
    second = [p.detach() for p in models[1].parameters()]
    assert not all(torch.equal(a, b) for a, b in zip(first, second))


def test_train_many_is_deterministic_on_the_cpu(pool):
    x, y = pool
    keep = balanced_keep(2, len(y), seed=1)
    a = train_many(TrainConfig(epochs=2, device="cpu"), x, y, keep, seed=3)
    b = train_many(TrainConfig(epochs=2, device="cpu"), x, y, keep, seed=3)
    for ma, mb in zip(a, b):
        assert all(torch.equal(p, q) for p, q in zip(ma.state_dict().values(), mb.state_dict().values()))
