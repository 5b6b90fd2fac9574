"""The pages' one door: jobs submitted through it, names checked before any work, shipped models kept as built."""

import hashlib

import pytest

from mia_core.service import Service
from mia_core.store import ModelStore


@pytest.fixture
def service(tmp_path, monkeypatch, tiny_overfit_run, digits):
    """A service over a store whose shipped layer holds one model, `shipped-demo`."""
    shipped = tmp_path / "shipped"
    ModelStore(shipped).save("shipped-demo", tiny_overfit_run.target, tiny_overfit_run.shadows, digits=digits)
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setattr("mia_core.store.SHIPPED_ROOT", shipped)
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


def test_two_sessions_asking_the_same_run_share_one_job(service, tiny_overfit):
    cfg = tiny_overfit.with_train(epochs=2)
    assert service.submit_experiment(cfg) is service.submit_experiment(cfg)


def test_an_impossible_configuration_fails_before_it_is_queued(service, tiny_overfit):
    from dataclasses import replace

    with pytest.raises(ValueError, match="more than the 10,000 digits available"):
        service.submit_experiment(replace(tiny_overfit, train_size=9000))
    assert not service.runner.root.exists() or not any(service.runner.root.glob("*.json"))
