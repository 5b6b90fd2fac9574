from dataclasses import replace

import numpy as np
import pytest

from mia_core.config import ExperimentConfig, TrainConfig
from mia_core.experiment.run import eval_records, run_experiment, split_for


def test_overfit_target_leaks_and_every_attack_beats_chance(tiny_overfit_run):
    r = tiny_overfit_run
    assert r.target.train_accuracy == 1.0
    assert r.target.gap > 0.05
    for name, run in r.attacks.items():
        assert run.metrics.auc > 0.55, name
        assert (run.metrics.members, run.metrics.non_members) == (100, 1000)


def test_held_out_records_were_never_used_by_the_attacker(tiny_overfit_run):
    r = tiny_overfit_run
    s = r.target.splits
    index = r.attacks["shadow"].index
    assert np.isin(index[r.attacks["shadow"].is_member], s.members).all()
    assert np.isin(index[~r.attacks["shadow"].is_member], s.non_members).all()
    assert not np.isin(index, s.shadow_pool).any()


def test_shadows_train_like_the_target_and_keep_early_stopping_apart_from_their_attack_data(digits):
    from mia_core.experiment.run import shadow_draw, split_for

    cfg = ExperimentConfig(train_size=300, train=TrainConfig(early_stopping=3))
    pool = split_for(cfg, digits).shadow_pool
    inside, validation, outside = shadow_draw(cfg, pool, 0)
    assert len(inside) == 300 and len(validation) == cfg.validation_size == 100 and len(outside) == 300
    assert len(set(inside) | set(validation) | set(outside)) == 700  # disjoint
    assert not np.array_equal(inside, shadow_draw(cfg, pool, 1)[0])  # each shadow its own draw


@pytest.mark.slow
def test_defended_target_sits_near_chance(digits):
    cfg = ExperimentConfig(train_size=2000, shadows=2, seed=0, attacks=("shadow", "loss", "modified_entropy"),
                           train=TrainConfig(epochs=3, dropout=0.5, weight_decay=1e-3, device="cpu"))
    r = run_experiment(cfg, digits)
    assert abs(r.target.gap) < 0.03
    for name, run in r.attacks.items():
        assert run.metrics.auc == pytest.approx(0.5, abs=0.05), name


@pytest.mark.slow
def test_the_pools_a_person_picks_from_mix_the_classes_in_an_order_set_by_the_seed(tiny_overfit_run, digits):
    target = tiny_overfit_run.target
    assert np.all(np.diff(digits.labels[target.splits.members]) >= 0)  # in index order: by class, 0s first
    pools = target.pick_pools()
    assert list(pools) == ["members", "non_members", "test"]
    for name, pool in pools.items():
        assert sorted(pool) == sorted(getattr(target.splits, name))
        assert len(set(digits.labels[pool[:20]])) >= 6, name
    assert all(np.array_equal(a, b) for a, b in zip(pools.values(), target.pick_pools().values()))


@pytest.mark.slow
def test_same_seed_same_numbers(tiny_overfit, digits, tiny_overfit_run):
    again = run_experiment(tiny_overfit, digits).to_json()
    first = tiny_overfit_run.to_json()
    for name in first["attacks"]:
        for metric in ("accuracy", "precision", "recall", "f1", "auc", "advantage", "tpr_at_fpr", "auc_ci"):
            assert again["attacks"][name][metric] == first["attacks"][name][metric]
    assert again["target"]["test_accuracy"] == first["target"]["test_accuracy"]


@pytest.mark.slow
def test_worker_processes_give_the_same_numbers_and_start_the_in_sample_fit_once_the_target_is_back(tiny_overfit,
                                                                                                   digits):
    """The target and 4 shadows on 2 workers: the target and the first shadow side by side, the other three beside
    them. The attacks run in the workers too: the one that needs nothing but the target is asked for as soon as
    the target's stack is back (its worker is then free), the others once every shadow is."""
    from mia_core.jobs.tasks import one_thread
    from mia_core.jobs.model_pool import ProcessPool

    cfg = replace(tiny_overfit, shadows=4)
    events = []
    pool = ProcessPool(2, {"dir": None, "fingerprint": digits.fingerprint})
    submit = pool.imap_unordered

    def logged(fn, names, *arguments):
        events.append("asked for " + " ".join(names))
        return submit(fn, names, *arguments)

    pool.imap_unordered = logged
    with one_thread():
        here = run_experiment(cfg, digits).to_json()
        there = run_experiment(cfg, digits, trainer=pool, progress=events.append).to_json()
    pool.shutdown()
    assert list(there["attacks"]) == list(tiny_overfit.attacks)  # in the configured order
    for name, figures in here["attacks"].items():
        assert {k: v for k, v in figures.items() if k != "seconds"} == \
            {k: v for k, v in there["attacks"][name].items() if k != "seconds"}, name
    order = [e if isinstance(e, str) else f"attack {next(iter(e.metrics))}" if e.stage == "attacks" else e.stage
             for e in events]
    target_back = max(order.index("target"), order.index("shadow 1/4"))
    assert order[target_back + 1] == "asked for seed_in_sample"
    last_shadow = max(order.index(f"shadow {k}/4") for k in range(1, 5))
    assert order.index("asked for shadow loss confidence entropy modified_entropy") > last_shadow
    assert [e.step for e in events if not isinstance(e, str) and e.stage == "attacks"] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("references", [2, 3])
@pytest.mark.slow
def test_reference_attacks_beat_chance_with_two_or_three_references(references, digits):
    """With 2 references the only other model in the calibration is the pretend target's complement: the
    missing "out" (or "in") side is estimated, and the ranking must still find the members."""
    cfg = ExperimentConfig(train_size=100, shadows=1, references=references, seed=0, test_size=500,
                           attacks=("lira_online", "lira_offline", "rmia"),
                           train=TrainConfig(epochs=30, batch_size=32, device="cpu"))
    r = run_experiment(cfg, digits)
    for name, run in r.attacks.items():
        assert run.metrics.auc_ci[0] > 0.5, name  # the whole interval above chance
        assert roc_auc(run.probability, run.is_member) == pytest.approx(run.metrics.auc), name


def roc_auc(scores, member):
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(member, scores)


def test_reference_models_train_like_the_target_on_a_pool_holding_every_scored_record(digits):
    from mia_core.experiment.references import reference_plan

    cfg = ExperimentConfig(train_size=100, references=4, train=TrainConfig(early_stopping=2))
    splits = split_for(cfg, digits)
    index, _ = eval_records(cfg, splits)
    plan = reference_plan(cfg, index, splits.shadow_pool)
    assert np.isin(index, plan.pool).all()
    assert len(plan.population) == 1000 and len(plan.validation) == cfg.validation_size
    parts = [plan.pool, plan.population, plan.validation]
    assert sum(map(len, parts)) == len(np.unique(np.concatenate(parts)))  # disjoint
    with pytest.raises(ValueError, match="reference models train on 3,000 digits like the target"):
        dp = ExperimentConfig(train_size=3000, non_members=500, test_size=500)
        reference_plan(dp, eval_records(dp, split_for(dp, digits))[0], split_for(dp, digits).shadow_pool[:1200])


@pytest.mark.slow
def test_reference_attacks_end_to_end_and_store_round_trip(digits, tmp_path):
    from dataclasses import replace

    from mia_core.storage.store import ModelStore

    cfg = ExperimentConfig(train_size=100, shadows=1, references=4, seed=0, test_size=500,
                           attacks=("lira_online", "lira_offline", "rmia", "loss"),
                           train=TrainConfig(epochs=30, batch_size=32, device="cpu"))
    r = run_experiment(cfg, digits)
    refs = r.references
    assert refs.data.keep.shape == (4, 1100) and (refs.data.keep.sum(axis=1) == 100).all()  # 100 members + 1000 out
    assert set(refs.data.keep.sum(axis=0)) <= {0, 1}  # 400 training slots spread over 1,100 records
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


@pytest.mark.slow
def test_label_only_attack_finds_members_of_a_tiny_overfit_target_through_labels_alone(digits):
    cfg = ExperimentConfig(train_size=100, shadows=2, seed=0, test_size=500, labels_only=True,
                           attacks=("label_only_noise", "loss"), train=TrainConfig(epochs=40, batch_size=32, device="cpu"))
    r = run_experiment(cfg, digits)
    assert set(r.attacks) == {"label_only_noise"}  # the loss attack reads confidences: it cannot run
    assert r.attacks["label_only_noise"].metrics.auc_ci[0] > 0.5
    assert "labels only" in r.to_json()["not_run"]["loss"]
