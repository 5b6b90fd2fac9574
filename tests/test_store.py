import json

import numpy as np
import pytest
import torch

from mia_core.storage.store import ModelStore, StoreError
from mia_core.training import predict_logits


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "store")


def test_round_trip_gives_back_the_same_models(store, tiny_overfit_run, digits):
    r = tiny_overfit_run
    store.save("demo", r.target, r.shadows, digits=digits, metrics={"shadow": {"auc": 0.7}})
    assert store.names() == ["demo"]
    target, shadows = store.load("demo", digits)
    x = digits.tensors(r.target.splits.test[:50])[0]
    assert np.array_equal(predict_logits(target.model, x), predict_logits(r.target.model, x))
    assert np.array_equal(target.splits.members, r.target.splits.members)
    assert target.history == r.target.history and target.test_accuracy == r.target.test_accuracy
    assert len(shadows.models) == len(r.shadows.models)
    assert np.array_equal(predict_logits(shadows.models[1], x), predict_logits(r.shadows.models[1], x))
    assert np.array_equal(shadows.data.logits, r.shadows.data.logits)
    meta = store.meta("demo")
    assert meta["metrics"]["shadow"]["auc"] == 0.7 and "torch" in meta["versions"]


def test_save_is_atomic_and_overwrites_cleanly(store, tiny_overfit_run, digits):
    r = tiny_overfit_run
    store.save("demo", r.target, None, digits=digits)
    store.save("demo", r.target, r.shadows, digits=digits)
    assert sorted(p.name for p in store.root.iterdir()) == ["demo"]  # no temporary or old folders left
    assert store.load("demo", digits)[1] is not None


@pytest.mark.parametrize("garbage", [b"", b"junk", b"not a zip file at all", b"\x80\x04K\x01."])
def test_corrupt_weights_are_named_and_nothing_is_overwritten(store, tiny_overfit_run, digits, garbage):
    r = tiny_overfit_run
    folder = store.save("demo", r.target, r.shadows, digits=digits)
    (folder / "target.pt").write_bytes(garbage)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(StoreError, match=r"target\.pt: not a valid weights file"):
        store.load("demo", digits)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_pickle_with_code_is_refused(store, tiny_overfit_run, digits, tmp_path):
    folder = store.save("demo", tiny_overfit_run.target, None, digits=digits)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"x": Evil()}, folder / "target.pt")
    with pytest.raises(StoreError, match="not a valid weights file"):
        store.load("demo", digits)
    assert not marker.exists()


def test_foreign_weights_are_named(store, tiny_overfit_run, digits):
    folder = store.save("demo", tiny_overfit_run.target, None, digits=digits)
    torch.save({"fc.weight": torch.zeros(3, 3)}, folder / "target.pt")
    with pytest.raises(StoreError, match="do not fit a lenet5 model"):
        store.load("demo", digits)


def test_bad_metadata_missing_model_and_bad_names(store, tiny_overfit_run, digits):
    with pytest.raises(StoreError, match="no stored model named 'ghost'"):
        store.load("ghost", digits)
    folder = store.save("demo", tiny_overfit_run.target, None, digits=digits)
    (folder / "meta.json").write_text("{not json")
    with pytest.raises(StoreError, match="meta.json: not valid JSON"):
        store.load("demo", digits)
    (folder / "meta.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(StoreError, match="not a model-store metadata file"):
        store.load("demo", digits)
    with pytest.raises(ValueError, match="model name '../x'"):
        store.path("../x")


def test_model_for_other_data_is_refused(store, tiny_overfit_run, digits):
    from mia_core.data import Digits

    store.save("demo", tiny_overfit_run.target, None, digits=digits)
    other = Digits(digits.images[:5000], digits.labels[:5000], "half")
    with pytest.raises(StoreError, match="was trained on embedded"):
        store.load("demo", other)


@pytest.mark.parametrize("garbage", [b"", b"junk"])
def test_corrupt_shadow_data_is_named(store, tiny_overfit_run, digits, garbage):
    folder = store.save("demo", tiny_overfit_run.target, tiny_overfit_run.shadows, digits=digits)
    (folder / "shadow_data.npz").write_bytes(garbage)
    with pytest.raises(StoreError, match=r"shadow_data\.npz: not a valid shadow-data file"):
        store.load("demo", digits)


def test_a_model_from_an_earlier_store_format_says_what_to_do(tmp_path):
    """Format 1 cut its held-out non-members to the member count, so its splits are not today's."""
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "meta.json").write_text(json.dumps({"format": 1, "config": {}}))
    with pytest.raises(StoreError, match="saved by an earlier version .* delete .* and build it again"):
        ModelStore(tmp_path).meta("old")
