"""Safetensors weights: a stored target exported and read back, and every hostile file refused with a reason."""

import pickle

import numpy as np
import pytest
import torch

from mia_core.cli import main
from mia_core.config import preset
from mia_core.storage.store import ModelStore
from mia_core.training import predict_logits
from mia_core.storage.weights import WeightsError, export_target, members_path, read_members, read_weights


@pytest.fixture
def exported(tmp_path, tiny_overfit_run, digits):
    store = ModelStore(tmp_path / "store")
    store.save("mine", tiny_overfit_run.target, digits=digits)
    return export_target(store, "mine", digits, tmp_path / "mine.safetensors")


def test_an_exported_target_reads_back_as_the_same_model(exported, tiny_overfit_run, digits):
    weights, members = exported
    assert members == members_path(weights)
    model = read_weights(weights, arch=tiny_overfit_run.config.train.arch)
    x = digits.tensors(np.arange(50))[0]
    assert np.array_equal(predict_logits(model, x), predict_logits(tiny_overfit_run.target.model, x))
    assert np.array_equal(read_members(members, size=len(digits)), tiny_overfit_run.target.splits.members)


def test_the_command_line_exports_and_refuses_a_missing_model(tmp_path, monkeypatch, tiny_overfit_run, digits, capsys):
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    ModelStore(tmp_path / "store").save("mine", tiny_overfit_run.target, digits=digits)
    assert main(["export", "mine", "--out", str(tmp_path / "out.safetensors")]) == 0
    assert (tmp_path / "out.members.csv").is_file()
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "nobody", "--out", str(tmp_path / "x.safetensors")])
    assert exit_info.value.code == 2 and "no stored model named 'nobody'" in capsys.readouterr().err


def hostile(tmp_path, exported) -> dict:
    weights = exported[0]
    files = {"a pickle renamed": pickle.dumps({"conv1.weight": [1, 2]}),
             "torch.save": None, "truncated": weights.read_bytes()[:300], "empty": b""}
    out = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.safetensors"
        if data is None:
            torch.save({"conv1.weight": torch.zeros(1)}, path)
        else:
            path.write_bytes(data)
        out[name] = path
    return out


@pytest.mark.parametrize("name, message", [("a pickle renamed", "a pickle or torch.save file, not safetensors"),
                                           ("torch.save", "a pickle or torch.save file, not safetensors"),
                                           ("truncated", "not a valid safetensors file"),
                                           ("empty", "not a valid safetensors file")])
def test_a_file_that_is_not_safetensors_is_refused_and_never_unpickled(tmp_path, exported, name, message):
    with pytest.raises(WeightsError, match=message):
        read_weights(hostile(tmp_path, exported)[name], arch="lenet5")


def test_weights_of_another_architecture_or_size_are_refused(tmp_path, exported):
    from safetensors.torch import save_file

    with pytest.raises(WeightsError, match="not seed_lenet weights"):
        read_weights(exported[0], arch="seed_lenet")
    with pytest.raises(WeightsError, match="more than the 0.1 MB"):
        read_weights(exported[0], arch="lenet5", max_mb=0.1)
    save_file({"conv1.weight": torch.zeros(3, 3)}, str(tmp_path / "odd.safetensors"))
    with pytest.raises(WeightsError, match="not lenet5 weights: missing"):
        read_weights(tmp_path / "odd.safetensors", arch="lenet5")
    (tmp_path / "bad.members.csv").write_text("1\n1\n")
    with pytest.raises(WeightsError, match="distinct"):
        read_members(tmp_path / "bad.members.csv", size=10)


@pytest.mark.slow
def test_an_exported_target_brought_back_gives_the_same_figures(tmp_path, monkeypatch):
    """export, then `run --target-weights` on the file with its members: the same seed's figures agree within
    their 95% intervals (the held-out non-members and the attacker's pool are drawn around the members)."""
    import json

    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    common = ["--epochs", "30", "--shadows", "2", "--attacks", "loss,shadow", "--seed", "0", "--quiet",
              "--executor", "inline"]
    assert main(["run", "--train-size", "100", "--save", "mine", "--json", str(tmp_path / "here.json"), *common]) == 0
    assert main(["export", "mine", "--out", str(tmp_path / "mine.safetensors")]) == 0
    assert main(["run", "--target-weights", str(tmp_path / "mine.safetensors"), "--arch", preset("overfit").train.arch, "--members",
                 str(tmp_path / "mine.members.csv"), "--json", str(tmp_path / "brought.json"), *common]) == 0
    here, brought = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("here", "brought"))
    assert brought["target"]["weights"].endswith("mine.safetensors") and brought["data"]["members"] == 100
    assert brought["target"]["train_accuracy"] == here["target"]["train_accuracy"]  # the very same model
    for attack in ("loss", "shadow"):
        a, b = here["attacks"][attack], brought["attacks"][attack]
        assert b["auc_ci"][0] <= a["auc"] <= b["auc_ci"][1] and a["auc_ci"][0] <= b["auc"] <= a["auc_ci"][1]
    assert here["attacks"]["loss"]["auc"] > 0.6  # an overfitted target: there is something to find


@pytest.mark.parametrize("extra, message", [([], "--target-weights needs --members"),
                                            (["--members", "nowhere.csv"], "nowhere.csv: cannot read it")])
def test_a_brought_target_without_its_members_is_refused(tmp_path, exported, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--target-weights", str(exported[0]), "--arch", "lenet5", *extra])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_a_hostile_file_given_to_run_exits_2_and_stores_nothing(tmp_path, exported, capsys, monkeypatch):
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    for name, path in hostile(tmp_path, exported).items():
        with pytest.raises(SystemExit) as exit_info:
            main(["run", "--target-weights", str(path), "--arch", preset("overfit").train.arch, "--members", str(exported[1])])
        assert exit_info.value.code == 2 and "safetensors" in capsys.readouterr().err, name
    assert ModelStore(tmp_path / "store").names() == ["mine"] and not (tmp_path / "store" / ".jobs").exists()
