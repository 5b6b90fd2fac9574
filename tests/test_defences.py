"""Every defence is a training setting; each must actually do what it claims on a small case."""

import numpy as np
import pytest
import torch

from mia_core.config import TrainConfig
from mia_core.training import predict_logits, train_model


@pytest.fixture(scope="module")
def small(digits):
    order = np.random.default_rng(0).permutation(len(digits))
    return digits.tensors(order[:100]), digits.tensors(order[-1000:]), digits.tensors(order[-1500:-1000])


def gaps(model, train, test) -> tuple[float, float]:
    """(accuracy gap, loss gap): train minus test accuracy, and test minus train mean loss."""
    out = {}
    for name, (x, y) in (("train", train), ("test", test)):
        logits = torch.as_tensor(predict_logits(model, x))
        out[name] = ((logits.argmax(1) == y).float().mean().item(), torch.nn.functional.cross_entropy(logits, y).item())
    return out["train"][0] - out["test"][0], out["test"][1] - out["train"][1]


@pytest.fixture(scope="module")
def undefended(small):
    train, test, _ = small
    model, _ = train_model(TrainConfig(epochs=40, batch_size=32, device="cpu"), *train, seed=0)
    return gaps(model, train, test)


@pytest.mark.parametrize("defence", [
    {"dropout": 0.5, "weight_decay": 1e-2},
    {"label_smoothing": 0.5},
    {"early_stopping": 2},
    {"dp_noise": 1.0, "lr": 3e-3},
])
@pytest.mark.slow
def test_each_defence_narrows_the_gap_the_attacks_feed_on(small, undefended, defence):
    train, test, validation = small
    cfg = TrainConfig(epochs=40, batch_size=32, device="cpu", **{"lr": 1e-3, **defence})
    model, history = train_model(cfg, *train, seed=0, validation=validation)
    accuracy_gap, loss_gap = gaps(model, train, test)
    assert loss_gap < 0.75 * undefended[1]  # members' losses look more like everyone else's
    assert accuracy_gap <= undefended[0] + 0.02
    if "early_stopping" in defence:
        assert len(history) < 40  # it did stop early


@pytest.mark.slow
def test_epsilon_grows_as_noise_falls(small):
    train, *_ = small
    spent = []
    for noise in (2.0, 1.0, 0.6):
        _, history = train_model(TrainConfig(epochs=2, batch_size=32, device="cpu", dp_noise=noise), *train, seed=0)
        assert [h.epsilon for h in history] == sorted(h.epsilon for h in history)  # privacy is spent, never refunded
        spent.append(history[-1].epsilon)
    assert spent[0] < spent[1] < spent[2]


@pytest.mark.slow
def test_target_epsilon_is_met(small):
    train, *_ = small
    _, history = train_model(TrainConfig(epochs=3, batch_size=32, device="cpu", dp_epsilon=2.0), *train, seed=0)
    assert history[-1].epsilon == pytest.approx(2.0, abs=0.05)


@pytest.mark.slow
def test_dp_training_is_deterministic_under_a_fixed_seed(small):
    # Opacus is seeded through torch's global generator (noise) and the data loader's (Poisson sampling);
    # with secure_mode=True it would draw from the OS instead and could not be repeated.
    train, *_ = small
    cfg = TrainConfig(epochs=2, batch_size=32, device="cpu", dp_noise=1.0)
    a, _ = train_model(cfg, *train, seed=4)
    b, _ = train_model(cfg, *train, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("changes, message", [
    ({"label_smoothing": 1.0}, "label smoothing must be in"),
    ({"early_stopping": -1}, "patience must be non-negative"),
    ({"dp_epsilon": 1.0, "dp_noise": 1.0}, "either a target epsilon or a noise multiplier"),
    ({"dp_epsilon": 0.0}, "DP epsilon must be positive"),
    ({"dp_delta": 1.0}, "DP delta must be in"),
])
def test_impossible_defences_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)
