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


def test_reference_attacks_end_to_end_and_store_round_trip(digits, tmp_path):
    from dataclasses import replace

    from mia_core.store import ModelStore

    cfg = ExperimentConfig(train_size=100, shadows=1, references=4, seed=0, test_size=500,
                           attacks=("lira_online", "lira_offline", "rmia", "loss"),
                           train=TrainConfig(epochs=30, batch_size=32, device="cpu"))
    r = run_experiment(cfg, digits)
    refs = r.references
    assert refs.data.keep.shape == (4, 200) and (refs.data.keep.sum(axis=0) == 2).all()
    assert np.isin(r.attacks["lira_online"].index, refs.index).all()  # every scored record is in the pool
    assert not np.isin(refs.population_index, refs.index).any()
    for name in ("lira_online", "lira_offline", "rmia"):
        assert r.attacks[name].metrics.auc > 0.6, name
    store = ModelStore(tmp_path)
    store.save("t", r.target, r.shadows, digits=digits, references=refs)
    back = store.load_references("t", digits)
    assert np.array_equal(back.data.keep, refs.data.keep) and np.array_equal(back.index, refs.index)
    assert len(back.models) == 4
    store.save("u", r.target, r.shadows, digits=digits)
    assert store.load_references("u", digits) is None
    with pytest.raises(ValueError, match="at least 2 reference models"):
        replace(cfg, references=1)
