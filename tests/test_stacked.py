"""training/stacked.py: models side by side in one network train as they would alone."""

import numpy as np
import pytest
import torch

from mia_core.config import TrainConfig
from mia_core.models import build_model
from mia_core.training import predict_logits, train_model
from mia_core.training.stacked import stack, train_stacked


@pytest.mark.parametrize("arch", ["lenet5", "lenet5_tanh", "seed_lenet"])
@pytest.mark.slow
def test_models_side_by_side_train_as_each_would_alone(digits, arch):
    """The reference is `train_model`. With dropout and L2 on, each model must draw its own batches and dropout
    masks as it would alone: side by side it ends within rounding of the model alone (which Adam can amplify),
    and the same model trained alone on its records in another order ends far from both."""
    cfg = TrainConfig(arch=arch, epochs=4, dropout=0.3, weight_decay=1e-3, device="cpu")
    order = np.random.default_rng(0).permutation(len(digits))
    data = [digits.tensors(order[k * 100:(k + 1) * 100]) for k in range(3)]
    side_by_side = train_stacked(cfg, data, [7, 8, 9])
    x = digits.tensors(order[1000:1200])[0]
    for (model, history), (x_m, y_m), seed in zip(side_by_side, data, [7, 8, 9]):
        alone, alone_history = train_model(cfg, x_m, y_m, seed=seed)
        for name, weight in alone.state_dict().items():
            assert torch.allclose(model.state_dict()[name], weight, rtol=0, atol=1e-3), name
        assert np.abs(predict_logits(model, x) - predict_logits(alone, x)).max() < 1e-3
        other_batches, _ = train_model(cfg, x_m.flip(0), y_m.flip(0), seed=seed)  # same weights and masks at first
        assert np.abs(predict_logits(other_batches, x) - predict_logits(alone, x)).max() > 0.05
        assert [h.train_accuracy for h in history] == pytest.approx([h.train_accuracy for h in alone_history],
                                                                     abs=0.011)
        assert not model.training and all(t.is_contiguous() for t in model.state_dict().values())
    first, second = (m.state_dict()["features.0.weight"] for m, _ in side_by_side[:2])
    assert not torch.equal(first, second)  # each its own weights


def test_each_model_draws_the_dropout_masks_it_would_alone():
    """`F.dropout` on the CPU from the global generator is the reference; here each model has a generator."""
    from mia_core.training.stacked import PerModelDropout

    h = torch.ones(2, 64, 120)  # [M, B, F]
    generators = [torch.Generator().manual_seed(k) for k in (3, 4)]
    dropped = PerModelDropout(0.3, generators)(h)
    for m, seed in enumerate((3, 4)):
        torch.manual_seed(seed)
        assert torch.equal(dropped[m], torch.nn.functional.dropout(h[m], 0.3))


def test_the_same_stack_trains_the_same_weights(digits):
    cfg = TrainConfig(epochs=2, dropout=0.2, device="cpu")
    data = [digits.tensors(np.arange(k, 1000, 10)) for k in range(2)]
    a, b = train_stacked(cfg, data, [1, 2]), train_stacked(cfg, data, [1, 2])
    for (ma, ha), (mb, hb) in zip(a, b):
        assert ha == hb
        assert all(torch.equal(p, q) for p, q in zip(ma.state_dict().values(), mb.state_dict().values()))


@pytest.mark.slow
def test_a_model_with_a_test_set_gets_its_curve_as_alone_and_the_same_weights(digits):
    """A target trains side by side with its test curve: evaluated on the epochs `train_model` picks, within a
    record of its accuracy alone, and looking at it changes nothing it learns."""
    cfg = TrainConfig(epochs=12, dropout=0.2, device="cpu")
    order = np.random.default_rng(1).permutation(len(digits))
    data = [digits.tensors(order[k * 100:(k + 1) * 100]) for k in range(3)]
    test = digits.tensors(order[2000:2500])
    tested = train_stacked(cfg, data, [0, 1, 2], tests=[None, test, None])
    untested = train_stacked(cfg, data, [0, 1, 2])
    _, alone = train_model(cfg, *data[1], seed=1, test=test)
    curve = [(h.epoch, h.test_accuracy) for h in tested[1][1] if h.test_accuracy is not None]
    assert [epoch for epoch, _ in curve] == [h.epoch for h in alone if h.test_accuracy is not None]
    assert [a for _, a in curve] == pytest.approx([h.test_accuracy for h in alone if h.test_accuracy is not None],
                                                abs=0.0021)
    assert all(h.test_accuracy is None for m in (0, 2) for h in tested[m][1])
    for (a, _), (b, _) in zip(tested, untested):
        assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_what_cannot_be_stacked_is_refused_by_name(digits):
    data = [digits.tensors(np.arange(100)), digits.tensors(np.arange(100, 150))]
    with pytest.raises(ValueError, match=r"record counts \[50, 100\]"):
        train_stacked(TrainConfig(epochs=1, device="cpu"), data, [0, 1])
    with pytest.raises(ValueError, match="2 seeds, 1 test sets"):
        train_stacked(TrainConfig(epochs=1, device="cpu"), [data[0], data[0]], [0, 1], tests=[data[1]])
    with pytest.raises(ValueError, match="only plain models"):
        train_stacked(TrainConfig(epochs=1, device="cpu", early_stopping=2), data[:1], [0])
    normed = [torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4)) for _ in range(2)]
    with pytest.raises(ValueError, match="no stacked form for BatchNorm2d"):
        stack(normed, [torch.Generator(), torch.Generator()])
    assert len(stack([build_model("lenet5") for _ in range(2)], [torch.Generator()] * 2)) == 14
