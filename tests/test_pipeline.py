import numpy as np
import pytest

from mia_core.config import ExperimentConfig, TrainConfig
from mia_core.pipeline import run_experiment


def test_overfit_target_leaks_and_every_attack_beats_chance(tiny_overfit_run):
    r = tiny_overfit_run
    assert r.target.train_accuracy == 1.0
    assert r.target.gap > 0.05
    for name, run in r.attacks.items():
        assert run.metrics.auc > 0.55, name
        assert run.metrics.members == run.metrics.non_members == 100
    assert r.attacks["oracle"].metrics.auc >= r.attacks["shadow"].metrics.auc  # the upper bound is an upper bound


def test_held_out_records_were_never_used_by_the_attacker(tiny_overfit_run):
    r = tiny_overfit_run
    s = r.target.splits
    index = r.attacks["shadow"].index
    assert np.isin(index[r.attacks["shadow"].is_member], s.members).all()
    assert np.isin(index[~r.attacks["shadow"].is_member], s.non_members).all()
    assert not np.isin(index, s.shadow_pool).any()


def test_defended_target_sits_near_chance(digits):
    cfg = ExperimentConfig(train_size=2000, shadows=2, seed=0, attacks=("shadow", "loss", "modified_entropy"),
                           train=TrainConfig(epochs=3, dropout=0.5, weight_decay=1e-3, device="cpu"))
    r = run_experiment(cfg, digits)
    assert abs(r.target.gap) < 0.03
    for name, run in r.attacks.items():
        assert run.metrics.auc == pytest.approx(0.5, abs=0.05), name


def test_same_seed_same_numbers(tiny_overfit, digits, tiny_overfit_run):
    again = run_experiment(tiny_overfit, digits).to_json()
    first = tiny_overfit_run.to_json()
    for name in first["attacks"]:
        for metric in ("accuracy", "precision", "recall", "f1", "auc", "advantage", "tpr_at_fpr"):
            assert again["attacks"][name][metric] == first["attacks"][name][metric]
    assert again["target"]["test_accuracy"] == first["target"]["test_accuracy"]
