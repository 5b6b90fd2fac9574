import json
import os
import subprocess
import sys

import pytest

from mia_core.cli import main
from mia_core.experiment.reproduce import read_csv

SIZE = ["--train-size", "60", "--epochs", "4", "--shadows", "1"]
SMALL = [*SIZE, "--executor", "inline", "--quiet"]  # the jobs in this process: no worker processes to start


@pytest.mark.slow
def test_run_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", "--preset", "overfit", *SMALL, "--attacks", "shadow,loss,seed_in_sample", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["config"]["train_size"] == 60 and r["config"]["train"]["epochs"] == 4
    assert r["data"]["members"] == 60 and r["data"]["non_members"] == 1000 and "embedded" in r["data"]["source"]
    assert (r["data"]["eval_members"], r["data"]["eval_non_members"]) == (60, 1000)
    assert {"train_accuracy", "test_accuracy", "seconds"} <= set(r["target"])
    assert set(r["attacks"]) == {"shadow", "loss", "seed_in_sample"}
    for m in r["attacks"].values():
        assert {"accuracy", "precision", "recall", "f1", "auc", "advantage", "seconds"} <= set(m)
        for figure in ("auc", "advantage", "accuracy"):  # every figure with its 95% interval around it
            low, high = m[f"{figure}_ci"]
            assert low <= m[figure] <= high and low < high
        # 1,000 non-members resolve a TPR at 1% FPR, not at 0.1%: that one is null, with the reason
        assert m["tpr_at_fpr"]["0.01"] is not None and len(m["tpr_at_fpr_ci"]["0.01"]) == 2
        assert m["tpr_at_fpr"]["0.001"] is None and m["tpr_at_fpr_ci"]["0.001"] is None
        assert "needs at least 10,000 non-members" in m["tpr_at_fpr_note"]["0.001"]
    low, high = r["chance_band"]
    assert low < 0.5 < high and high - 0.5 == pytest.approx(0.5 - low)
    table = capsys.readouterr().out
    assert "Shadow models (Shokri)" in table and "coin flip" in table and "upper bound" not in table
    assert "seed_in_sample = the seed project's setting" in table and "n/a: TPR at 0.1% FPR needs" in table


@pytest.mark.slow
def test_per_record_scores_recompute_every_auc_of_the_json(tmp_path):
    """The CSV alone reproduces the JSON: its membership column against each attack's statistic."""
    import csv

    from sklearn.metrics import roc_auc_score

    out, scores = tmp_path / "r.json", tmp_path / "scores.csv"
    assert main(["run", *SMALL, "--attacks", "shadow,loss,entropy", "--non-members", "300",
                 "--json", str(out), "--scores", str(scores)]) == 0
    r = json.loads(out.read_text())
    rows = list(csv.DictReader(scores.open()))
    assert len(rows) == 60 + 300 and sum(int(row["member"]) for row in rows) == 60
    member = [int(row["member"]) for row in rows]
    for name, m in r["attacks"].items():
        statistic = [float(row[f"{name}_statistic"]) for row in rows]
        probability = [float(row[f"{name}_probability"]) for row in rows]
        assert roc_auc_score(member, statistic) == pytest.approx(m["auc"], abs=1e-9)
        assert roc_auc_score(member, probability) == pytest.approx(m["auc"], abs=1e-9)  # calibration kept the order
    assert m["tpr_at_fpr"]["0.01"] is None and "1,000 non-members" in m["tpr_at_fpr_note"]["0.01"]


def test_split_ai_from_the_command_line(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", *SMALL, "--split-models", "3", "--split-held-out", "1", "--attacks", "loss",
                 "--json", str(out)]) == 0
    train = json.loads(out.read_text())["config"]["train"]
    assert (train["split_models"], train["split_held_out"]) == (3, 1)


@pytest.mark.slow
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
    (["--save", "../../x"], "model name '../../x' must be"),
    (["--non-members", "0"], "'0' must be positive"),
])
def test_bad_input_exits_2_with_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_bad_input_has_no_traceback_in_a_real_process():
    p = subprocess.run([sys.executable, "-m", "mia_core", "run", "--dropout", "2"], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "dropout" in p.stderr


@pytest.mark.slow
def test_reproduce_writes_csv_and_markdown(tmp_path, digits):
    from mia_core.config import ExperimentConfig, TrainConfig
    from mia_core.experiment.reproduce import markdown, read_csv, reproduce, write_csv

    base = ExperimentConfig(train_size=60, shadows=1, train=TrainConfig(device="cpu"))
    rows = reproduce(digits, epochs=(2, 3), seeds=1, settings={"overfit": base, "defended": base.with_train(dropout=0.5)})
    assert [(r["setting"], r["epochs"], r["attack"]) for r in rows][:4] == [
        ("overfit", 2, "shadow"), ("overfit", 2, "seed_in_sample"), ("overfit", 3, "shadow"), ("overfit", 3, "seed_in_sample")]
    write_csv(rows, tmp_path / "results.csv")
    back = read_csv(tmp_path / "results.csv")
    assert back[0]["setting"] == "overfit" and {"accuracy", "accuracy_low", "auc", "tpr_at_1pct_fpr", "seconds"} <= set(back[0])
    assert back[0]["auc_low"] <= back[0]["auc"] <= back[0]["auc_high"]
    md = markdown(rows)
    assert "Overfitted target" in md and "91.67" not in md  # no seed row for epochs 2-3
    assert "seed's in-sample fit (not an attack)" in md and "upper bound" not in md
    assert "± 0.00" not in md  # one seed: bootstrap intervals, not a std of one value


@pytest.mark.slow
def test_reference_attacks_from_the_command_line(tmp_path):
    out = tmp_path / "r.json"
    main(["run", *SMALL, "--attacks", "lira_online,lira_offline,rmia", "--references", "2", "--json", str(out)])
    r = json.loads(out.read_text())
    assert r["data"]["references"] == 2 and "references" in r["seconds"]
    assert r["data"]["reference_train_size"] == 60  # trained like the target: as many records
    assert r["data"]["population"] == 1000
    assert set(r["attacks"]) == {"lira_online", "lira_offline", "rmia"}


def test_a_configuration_the_data_cannot_hold_fails_before_training(capsys):
    """6,000 members leave the embedded data's attacker too few digits to train shadows of that size."""
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--preset", "dp", "--train-size", "6000", "--quiet"])
    assert exit_info.value.code == 2
    assert "each shadow model trains on 6,000 digits like the target" in capsys.readouterr().err


@pytest.mark.slow
def test_a_labels_only_target_says_which_attacks_cannot_run(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", *SMALL, "--labels-only", "--attacks", "label_only,loss,confidence", "--non-members", "200",
                 "--json", str(out)]) == 0  # labels only: each record is asked many times
    r = json.loads(out.read_text())
    assert set(r["attacks"]) == {"label_only"} and r["config"]["labels_only"] is True
    assert set(r["not_run"]) == {"loss", "confidence"} and "labels only" in r["not_run"]["loss"]
    assert "not run: Loss threshold reads the target's confidence scores" in capsys.readouterr().out


def test_labels_only_with_no_label_attack_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--labels-only", "--attacks", "loss"])
    assert "none of the chosen attacks can run: add label_only" in capsys.readouterr().err


def test_audit_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "audit.json"
    assert main(["audit", "--preset", "overfit", "--train-size", "60", "--epochs", "20", "--canaries", "40",
                 "--executor", "inline", "--quiet", "--json", str(out)]) == 0
    a = json.loads(out.read_text())["audit"]
    assert a["canaries"] == 40 and a["confidence"] == 0.95 and a["accountant_epsilon"] is None
    assert a["epsilon_lower_bound"] <= a["epsilon_ceiling"] and a["kind"] == "black-box"
    assert "no finite epsilon is promised" in capsys.readouterr().out


@pytest.mark.slow
def test_white_box_audit_from_the_command_line(tmp_path, capsys):
    from mia_core.audit.whitebox import WHITE_BOX_CANARIES

    out = tmp_path / "audit.json"
    assert main(["audit", "--preset", "dp", "--train-size", "300", "--epochs", "2", "--white-box", "--executor",
                 "inline", "--quiet", "--json", str(out)]) == 0
    a = json.loads(out.read_text())["audit"]
    assert a["kind"] == "white-box" and a["canaries"] == WHITE_BOX_CANARIES
    assert max(a["epsilon_lower_bound"], a["epsilon_lower_bound_fdp"]) <= a["accountant_epsilon"]
    assert "if the implementation matches its analysis" in capsys.readouterr().out


@pytest.mark.slow
def test_save_never_replaces_a_stored_model_unless_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path))
    args = ["run", *SMALL, "--attacks", "loss", "--save", "mine"]
    assert main(args) == 0
    first = (tmp_path / "mine" / "meta.json").read_text()
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2 and "add --overwrite to replace it" in capsys.readouterr().err
    assert (tmp_path / "mine" / "meta.json").read_text() == first
    assert main([*args, "--overwrite", "--seed", "1"]) == 0
    assert json.loads((tmp_path / "mine" / "meta.json").read_text())["config"]["seed"] == 1


@pytest.mark.slow
def test_progress_in_a_log_file_is_one_line_per_stage(tmp_path):
    log = tmp_path / "log.txt"
    with log.open("w") as err:
        subprocess.run([sys.executable, "-m", "mia_core", "run", *SIZE, "--attacks", "loss"], stderr=err,
                       stdout=subprocess.DEVNULL, check=True)  # each stage's line as the worker processes report it
    text = log.read_text()
    assert "\r" not in text and "target: done" in text and "shadow 1/1: done" in text
