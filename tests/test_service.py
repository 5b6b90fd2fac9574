"""The pages' one door: jobs submitted through it, names checked before any work, shipped models kept as built."""

import hashlib

import pytest

from mia_core.service import AttackRun, BroughtTarget, EpochStats, Service, StoredTarget, TrainedTarget
from mia_core.storage.store import ModelStore


@pytest.fixture
def service(tmp_path, monkeypatch, tiny_overfit_run, digits):
    """A service over a store whose shipped layer holds one model, `shipped-demo`."""
    shipped = tmp_path / "shipped"
    ModelStore(shipped).save("shipped-demo", tiny_overfit_run.target, tiny_overfit_run.shadows, digits=digits)
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setattr("mia_core.storage.store.SHIPPED_ROOT", shipped)
    svc = Service(executor="inline")
    yield svc
    svc.shutdown()


def fingerprint(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_shipped_models_are_listed_loaded_and_never_replaced(service, tiny_overfit):
    folder = service.store.shipped / "shipped-demo"
    before = fingerprint(folder)
    assert "shipped-demo" in service.store.names() and service.store.is_shipped("shipped-demo")
    assert service.load("shipped-demo").target.test_accuracy > 0.5
    for attempt in (lambda: service.submit_training("shipped-demo", tiny_overfit, overwrite=True),
                    lambda: service.submit_experiment(tiny_overfit, save="shipped-demo", overwrite=True)):
        with pytest.raises(ValueError, match="shipped demo model, which is never replaced"):
            attempt()
    # Attacking it with other settings trains new shadows, and keeps none of them.
    service.submit_attack("shipped-demo", shadows=1, attacks=("loss",), references=2).result(timeout=120)
    assert fingerprint(folder) == before


def test_a_name_is_checked_before_any_work(service, tiny_overfit):
    with pytest.raises(ValueError, match="must be 1-64 letters"):
        service.submit_training("../../x", tiny_overfit)
    service.submit_training("mine", tiny_overfit.with_train(epochs=2)).result(timeout=120)
    with pytest.raises(ValueError, match="already stored .* allow replacing it"):
        service.submit_training("mine", tiny_overfit)
    service.submit_training("mine", tiny_overfit.with_train(epochs=3), overwrite=True).result(timeout=120)
    assert service.store.meta("mine")["config"]["train"]["epochs"] == 3


def test_pages_read_typed_records(service, tiny_overfit, tiny_overfit_run):
    job = service.submit_training("mine", tiny_overfit.with_train(epochs=2))
    trained = TrainedTarget.from_result(job.result(timeout=120))
    assert trained.name == "mine" and trained.gap == pytest.approx(trained.train_accuracy - trained.test_accuracy)
    targets, problems = service.stored_targets()
    mine = next(t for t in targets if t.name == "mine")
    assert problems == [] and isinstance(mine, StoredTarget) and not mine.shipped and mine.shadows == 0
    assert (mine.epochs, mine.train_size, mine.test_accuracy) == (2, tiny_overfit.train_size, trained.test_accuracy)
    assert [h.epoch for h in service.history("mine")] == [1, 2] and isinstance(service.history("mine")[0], EpochStats)
    demo = service.demo_summary("shipped-demo")
    assert demo.shipped and demo.test_accuracy == tiny_overfit_run.target.test_accuracy and demo.shadow_auc is None


def test_an_attack_run_is_read_once_for_the_page(service):
    result = service.submit_attack("shipped-demo", shadows=1, attacks=("loss",), references=2).result(timeout=120)
    run = AttackRun.from_result(result, number=1, target="shipped-demo")
    assert [r["attack"] for r in run.rows] == ["loss"] and run.curves["loss"].auc == result["attacks"]["loss"]["auc"]
    assert len(run.index) == len(run.is_member) == len(run.probabilities["loss"]) == len(result["scores"])
    top = run.exposed("loss", 3)
    assert run.is_member[top].all() and list(run.probabilities["loss"][top]) == sorted(run.probabilities["loss"][top],
                                                                                        reverse=True)
    assert "scores" not in run.json and run.record_scores.startswith("index,")


def test_a_brought_targets_answer_names_its_strongest_attack():
    known = BroughtTarget.from_result({"name": "k", "members_known": True, "test_accuracy": 0.9, "train_accuracy": 1.0,
                                       "attacks": {"loss": {"auc": 0.7, "auc_ci": [0.6, 0.8]},
                                                   "rmia": {"auc": 0.8, "auc_ci": [0.7, 0.9]}}})
    assert (known.strongest, known.strongest_auc, known.strongest_auc_ci) == ("rmia", 0.8, (0.7, 0.9))
    black_box = BroughtTarget.from_result({"name": "b", "members_known": False, "test_accuracy": 0.9})
    assert black_box.strongest is None and black_box.train_accuracy is None


def test_two_sessions_asking_the_same_run_share_one_job(service, tiny_overfit):
    cfg = tiny_overfit.with_train(epochs=2)
    assert service.submit_experiment(cfg) is service.submit_experiment(cfg)


def test_an_impossible_configuration_fails_before_it_is_queued(service, tiny_overfit):
    from dataclasses import replace

    with pytest.raises(ValueError, match="more than the 10,000 digits available"):
        service.submit_experiment(replace(tiny_overfit, train_size=9000))
    assert not service.runner.root.exists() or not any(service.runner.root.glob("*.json"))


@pytest.fixture
def uploaded(tiny_overfit_run, monkeypatch):
    """A model trained elsewhere, as its owner would upload it: safetensors bytes and a members CSV. The attacker
    trains few, short shadow and reference models here (the app's are the overfit preset's)."""
    from dataclasses import replace

    from safetensors.torch import save as to_bytes

    import mia_core.service

    small = mia_core.service.brought_config
    monkeypatch.setattr(mia_core.service, "brought_config", lambda guess, **kw: replace(
        small(guess, **kw).with_train(epochs=10), shadows=2, references=2))
    state = {k: v.contiguous() for k, v in tiny_overfit_run.target.model.state_dict().items()}
    members = "".join(f"{i}\n" for i in tiny_overfit_run.target.splits.members).encode()
    return to_bytes(state), members


def test_uploads_that_are_not_such_weights_are_refused_before_any_work(service, uploaded):
    import pickle

    weights, members = uploaded
    for data, arch, csv, message in (
            (pickle.dumps({"conv1.weight": [0.0]}), "lenet5", None, "a pickle or torch.save file, not safetensors"),
            (weights[:500], "lenet5", None, "not a valid safetensors file, truncated or corrupt"),
            (weights, "seed_lenet", None, "not seed_lenet weights: missing"),
            (weights + b"\0" * (21 * 2**20), "lenet5", None, "more than the 20 MB"),
            (weights, "lenet5", b"\xff\xfe binary", "the members file is not text"),
            (weights, "lenet5", b"3\n3\n", "must be distinct")):
        with pytest.raises(ValueError, match=message):
            service.submit_upload("mine", data, file="mine.safetensors", arch=arch, members=csv)
    assert not service.store.root.exists() or "mine" not in service.store.names()


@pytest.mark.slow
def test_a_black_box_upload_is_queried_and_not_measured(service, uploaded, digits):
    from mia_core.experiment.membership import query

    weights, _ = uploaded
    done = service.submit_upload("black-box", weights, file="mine.safetensors", arch="lenet5").result(timeout=300)
    assert done["members_known"] is False and done["test_accuracy"] > 0.7
    loaded = service.load("black-box")
    assert not loaded.target.members_known and loaded.target.train_accuracy is None
    report = query(loaded.target.model, digits.images[0], loaded.attacks,
                   reference=loaded.reference_query(digits, image=digits.images[0]))
    assert {"shadow", "loss", "lira_offline", "rmia"} <= set(report.member_probability)  # every attack answers
    with pytest.raises(ValueError, match="brought without its training set: query it on the Membership page"):
        service.submit_attack("black-box", shadows=2, attacks=("loss",), references=2)


@pytest.mark.slow
def test_an_upload_with_its_members_is_measured_like_a_target_trained_here(service, uploaded, tiny_overfit_run):
    weights, members = uploaded
    done = service.submit_upload("known", weights, file="mine.safetensors", arch="lenet5",
                                 members=members).result(timeout=300)
    assert done["members_known"] and done["train_accuracy"] == 1.0
    assert done["attacks"]["loss"]["auc_ci"][0] > 0.5  # a memorising target, found
    loaded = service.load("known")
    assert loaded.target.splits.members.tolist() == tiny_overfit_run.target.splits.members.tolist()
    again = service.submit_attack("known", shadows=2, attacks=("loss",), references=2).result(timeout=300)
    assert again["data"]["members"] == len(tiny_overfit_run.target.splits.members)
    assert service.store.meta("known")["brought"]["members"] == again["data"]["members"]  # still known after


def test_queries_in_the_servers_threads_use_one_thread_each(tmp_path, monkeypatch):
    """A drawn digit is a few hundred tiny operations in the session's thread; with a thread pool per core each one
    waits for a thread that busy cores have descheduled. The service leaves torch and the BLAS one thread each."""
    import threading

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    torch.set_num_threads(2)
    with threadpool_limits(limits=2):
        monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
        svc = Service(executor="inline")
        seen = []
        session = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))  # as a page's script thread
        session.start()
        session.join()
        assert torch.get_num_threads() == 1 and seen == [1]
        assert {pool["num_threads"] for pool in threadpool_info()} == {1}
        svc.shutdown()
