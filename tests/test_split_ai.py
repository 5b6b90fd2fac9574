"""Split-AI: every member is answered only by sub-models that never saw it."""

import numpy as np
import pytest
import torch

from mia_core.config import ExperimentConfig, TrainConfig
from mia_core.models import build_model
from mia_core.experiment.run import run_experiment
from mia_core.training.split_ai import SplitAI, fingerprint, split_assignment
from mia_core.training import predict_logits, train_model


def test_each_member_is_left_out_of_exactly_held_out_sub_models():
    excluded = split_assignment(103, models=7, held_out=3, seed=0)  # -> [7, 103]
    assert (excluded.sum(0) == 3).all()
    assert excluded.sum(1).max() - excluded.sum(1).min() <= 1  # sub-models of (nearly) equal size
    assert len({row.tobytes() for row in excluded}) == 7  # no two sub-models share a training set
    assert (split_assignment(103, models=7, held_out=3, seed=0) == excluded).all()
    assert (split_assignment(103, models=7, held_out=3, seed=1) != excluded).any()


def test_fingerprints_match_exact_copies_only(digits):
    x = digits.tensors(np.arange(500))[0]
    coefficients = torch.randint(1, 2**20, (784,), generator=torch.Generator().manual_seed(0))
    keys = fingerprint(x, coefficients)
    assert len(set(keys.tolist())) == 500
    assert (fingerprint(x.clone(), coefficients) == keys).all()
    nudged = x[:1].clone()
    nudged[0, 0, 14, 14] += 0.05
    assert fingerprint(nudged, coefficients)[0] != keys[0]


@pytest.fixture(scope="module")
def ensemble(digits):
    """Five untrained sub-models over 40 members, each member left out of two."""
    torch.manual_seed(0)
    x = digits.tensors(np.arange(40))[0]
    excluded = split_assignment(40, models=5, held_out=2, seed=0)
    model = SplitAI([build_model("lenet5") for _ in range(5)], held_out=2, members=40).remember(x, excluded)
    return model.eval(), x, excluded


def reference_answer(model: SplitAI, x: torch.Tensor, used: np.ndarray) -> np.ndarray:
    """The mean softmax of the sub-models in `used`, computed one sub-model at a time."""
    probs = [torch.as_tensor(predict_logits(model.models[k], x)).softmax(1) for k in np.flatnonzero(used)]
    return torch.stack(probs).mean(0).numpy()


def test_a_member_is_answered_by_the_sub_models_that_never_saw_it(ensemble):
    model, x, excluded = ensemble
    answer = torch.as_tensor(predict_logits(model, x)).softmax(1).numpy()
    for i in (0, 17, 39):
        assert np.allclose(answer[i], reference_answer(model, x[i:i + 1], excluded[:, i])[0], atol=1e-6)


def test_any_other_query_gets_held_out_many_sub_models_chosen_by_its_content(ensemble, digits):
    model, _, _ = ensemble
    others = digits.tensors(np.arange(100, 140))[0]
    routes = model.routes(others)  # -> [40, 5]
    assert (routes.sum(1) == 2).all()
    assert len({tuple(r.tolist()) for r in routes}) > 3  # different queries, different sub-models
    assert (model.routes(others) == routes).all()  # the same query always gets the same answer
    answer = torch.as_tensor(predict_logits(model, others[:1])).softmax(1).numpy()
    assert np.allclose(answer[0], reference_answer(model, others[:1], routes[0].numpy())[0], atol=1e-6)


def test_invalid_split_settings_say_why():
    with pytest.raises(ValueError, match="at least 2 sub-models"):
        TrainConfig(split_models=1)
    with pytest.raises(ValueError, match="out of 1 to 3"):
        TrainConfig(split_models=4, split_held_out=4)
    with pytest.raises(ValueError, match="DP-SGD or early stopping"):
        TrainConfig(split_models=4, dp_epsilon=3.0)


@pytest.mark.slow
def test_split_ai_hides_what_the_plain_model_leaks(digits):
    """Same 100 members, same training: the plain model leaks, the Split-AI ensemble does not."""
    plain = ExperimentConfig(train_size=100, shadows=1, seed=0, test_size=500, attacks=("loss", "confidence"),
                             train=TrainConfig(epochs=30, batch_size=32, device="cpu"))
    split = plain.with_train(split_models=5, split_held_out=2)
    leaky, hidden = run_experiment(plain, digits), run_experiment(split, digits)
    assert isinstance(hidden.target.model, SplitAI)
    assert hidden.target.gap < 0.5 * leaky.target.gap
    for name in plain.attacks:
        assert leaky.attacks[name].metrics.auc > 0.6, name
        assert hidden.attacks[name].metrics.auc < 0.58, name  # 100 + 100 records: a coin flip's AUC has sd 0.04


def test_training_reports_the_ensembles_test_accuracy(digits):
    x, y = digits.tensors(np.arange(60))
    test = digits.tensors(np.arange(1000, 1300))
    cfg = TrainConfig(epochs=3, batch_size=32, device="cpu", split_models=3, split_held_out=1)
    model, history = train_model(cfg, x, y, seed=0, test=test)
    assert len(history) == 3 and history[-1].test_accuracy is not None
    assert history[-1].test_accuracy == pytest.approx(float((predict_logits(model, test[0]).argmax(1) == test[1].numpy()).mean()))


def test_a_stored_split_ai_target_answers_members_and_others_as_before(digits, tmp_path):
    from mia_core.experiment.run import train_shadows, train_target
    from mia_core.storage.store import ModelStore

    cfg = ExperimentConfig(train_size=40, shadows=1, seed=0, test_size=100, attacks=("loss",),
                           train=TrainConfig(epochs=2, device="cpu", split_models=4, split_held_out=1))
    target = train_target(cfg, digits)
    store = ModelStore(tmp_path)
    store.save("split", target, train_shadows(cfg, digits, target.splits), digits=digits)
    loaded, shadows = store.load("split", digits)
    x = digits.tensors(np.r_[target.splits.members[:20], target.splits.test[:20]])[0]
    assert isinstance(loaded.model, SplitAI) and isinstance(shadows.models[0], SplitAI)
    assert np.array_equal(predict_logits(loaded.model, x), predict_logits(target.model, x))
