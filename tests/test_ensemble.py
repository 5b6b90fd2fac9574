import numpy as np
import pytest
import torch

from mia_core.config import TrainConfig
from mia_core.training.many import balanced_keep, train_ensemble, train_many, train_sequential
from mia_core.training import accuracy


@pytest.fixture(scope="module")
def pool(digits):
    index = np.random.default_rng(0).permutation(len(digits))[:200]
    return digits.tensors(index)


@pytest.mark.slow
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


@pytest.mark.slow
def test_train_many_is_deterministic_on_the_cpu(pool):
    x, y = pool
    keep = balanced_keep(2, len(y), seed=1)
    a = train_many(TrainConfig(epochs=2, device="cpu"), x, y, keep, seed=3)
    b = train_many(TrainConfig(epochs=2, device="cpu"), x, y, keep, seed=3)
    for ma, mb in zip(a, b):
        assert all(torch.equal(p, q) for p, q in zip(ma.state_dict().values(), mb.state_dict().values()))


def test_keep_matrix_spreads_each_record_over_as_equal_a_share_of_models_as_counts_allow():
    keep = balanced_keep(16, 101, seed=0)  # half each by default
    assert (keep.sum(axis=1) == 50).all()
    assert keep.sum(axis=0).max() - keep.sum(axis=0).min() <= 1
    small = balanced_keep(3, 1200, per_model=200, seed=0)  # reference models as small as a 200-member target
    assert (small.sum(axis=1) == 200).all() and set(small.sum(axis=0)) == {0, 1}
    pairs = balanced_keep(2, 10, seed=1)
    assert (pairs[0] ^ pairs[1]).all()  # at half, complementary pairs
    with pytest.raises(ValueError, match="must leave some of the 10 examples out"):
        balanced_keep(2, 10, per_model=10, seed=0)
