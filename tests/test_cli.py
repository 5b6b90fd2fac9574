import json
import subprocess
import sys

import pytest

from mia_core.cli import main

SMALL = ["--train-size", "60", "--epochs", "4", "--shadows", "1", "--quiet"]


def test_run_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", "--preset", "overfit", *SMALL, "--attacks", "shadow,loss,oracle", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["config"]["train_size"] == 60 and r["config"]["train"]["epochs"] == 4
    assert r["data"]["members"] == 60 and r["data"]["non_members"] == 60 and "embedded" in r["data"]["source"]
    assert {"train_accuracy", "test_accuracy", "seconds"} <= set(r["target"])
    assert set(r["attacks"]) == {"shadow", "loss", "oracle"}
    for m in r["attacks"].values():
        assert {"accuracy", "precision", "recall", "f1", "auc", "advantage", "seconds"} <= set(m)
        assert set(m["tpr_at_fpr"]) == {"0.01", "0.001"}
    low, high = r["chance_band"]
    assert low < 0.5 < high and high - 0.5 == pytest.approx(0.5 - low)
    table = capsys.readouterr().out
    assert "Shadow models (Shokri)" in table and "upper bound" in table and "coin flip" in table


def test_split_ai_from_the_command_line(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", *SMALL, "--split-models", "3", "--split-held-out", "1", "--attacks", "loss",
                 "--json", str(out)]) == 0
    train = json.loads(out.read_text())["config"]["train"]
    assert (train["split_models"], train["split_held_out"]) == (3, 1)


def test_same_seed_same_json(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for p in paths:
        main(["run", *SMALL, "--seed", "3", "--attacks", "loss,shadow", "--json", str(p)])
    a, b = (json.loads(p.read_text()) for p in paths)
    for name in a["attacks"]:
        a["attacks"][name].pop("seconds"), b["attacks"][name].pop("seconds")
    assert a["attacks"] == b["attacks"] and a["target"]["test_accuracy"] == b["target"]["test_accuracy"]


@pytest.mark.parametrize("args, message", [
    (["--train-size", "20000"], "more than the 10,000 digits available"),
    (["--dropout", "1.5"], "dropout must be in [0, 1)"),
    (["--epochs", "0"], "'0' must be positive"),
    (["--shadows", "0"], "'0' must be positive"),
    (["--attacks", "shadow,nope"], "unknown attack 'nope'"),
    (["--data-dir", "/no/such/dir"], "does not exist"),
    (["--epochs", "many"], "'many' is not a number"),
    (["--weight-decay", "-1"], "weight decay must be non-negative"),
    (["--split-models", "4", "--split-held-out", "4"], "out of 1 to 3 sub-models"),
])
def test_bad_input_exits_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_bad_input_has_no_traceback_in_a_real_process():
    p = subprocess.run([sys.executable, "-m", "mia_core", "run", "--dropout", "2"], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "dropout" in p.stderr


def test_reproduce_writes_csv_and_markdown(tmp_path, digits):
    from mia_core.config import ExperimentConfig, TrainConfig
    from mia_core.reproduce import markdown, read_csv, reproduce, write_csv

    base = ExperimentConfig(train_size=60, shadows=1, train=TrainConfig(device="cpu"))
    rows = reproduce(digits, epochs=(2, 3), seeds=2, settings={"overfit": base, "defended": base.with_train(dropout=0.5)})
    assert [(r["setting"], r["epochs"], r["attack"]) for r in rows][:4] == [
        ("overfit", 2, "shadow"), ("overfit", 2, "oracle"), ("overfit", 3, "shadow"), ("overfit", 3, "oracle")]
    write_csv(rows, tmp_path / "results.csv")
    back = read_csv(tmp_path / "results.csv")
    assert back[0]["setting"] == "overfit" and {"accuracy", "accuracy_std", "auc", "tpr_at_1pct_fpr", "seconds"} <= set(back[0])
    md = markdown(rows)
    assert "Overfitted target" in md and "91.67" not in md  # no seed row for epochs 2-3
    assert "oracle (seed's setting, upper bound)" in md


def test_reference_attacks_from_the_command_line(tmp_path):
    out = tmp_path / "r.json"
    main(["run", *SMALL, "--attacks", "lira_online,lira_offline,rmia", "--references", "2", "--json", str(out)])
    r = json.loads(out.read_text())
    assert r["data"]["references"] == 2 and "references" in r["seconds"]
    assert set(r["attacks"]) == {"lira_online", "lira_offline", "rmia"}
    assert all(0 <= m["auc"] <= 1 for m in r["attacks"].values())
