from dataclasses import replace
from pathlib import Path

import pytest

from mia_core.cli import main
from mia_core.config import ExperimentConfig, TrainConfig
from mia_core.experiment.reproduce import csv_text, read_csv
from mia_core.experiment.sweep import (AttackFigures, DefenceRun, configure, describe, is_undefended, parse_grid,
                                       read_sweep, sweep)

SHIPPED = Path(__file__).resolve().parent.parent / "assets" / "results"


def test_grid_parsing_and_configuration():
    grid = parse_grid(["dropout=0,0.5", "dp_epsilon=off,3", "train_size=100"])
    assert grid == {"dropout": [0.0, 0.5], "dp_epsilon": [None, 3.0], "train_size": [100]}
    cfg = configure(ExperimentConfig(), {"dropout": 0.5, "train_size": 100})
    assert cfg.train.dropout == 0.5 and cfg.train_size == 100
    with pytest.raises(ValueError, match="cannot sweep 'colour'"):
        parse_grid(["colour=1"])
    with pytest.raises(ValueError, match="must look like NAME=V1,V2"):
        parse_grid(["dropout"])
    with pytest.raises(ValueError, match="values must be floats"):
        parse_grid(["dropout=a"])


@pytest.mark.slow
def test_a_small_sweep_gives_one_row_per_point(digits):
    base = ExperimentConfig(train_size=60, shadows=1, attacks=("loss", "shadow"), train=TrainConfig(epochs=3, device="cpu"))
    runs = sweep(base, digits, {"dropout": [0.0, 0.5], "weight_decay": [0.0, 1e-2]})
    assert [(r.settings["dropout"], r.settings["weight_decay"]) for r in runs] == [(0.0, 0.0), (0.0, 0.01), (0.5, 0.0),
                                                                                (0.5, 0.01)]
    assert all(r.best_auc == max(r.attacks["loss"].auc, r.attacks["shadow"].auc) for r in runs)
    assert describe(runs[2].settings) == "dropout=0.5, weight_decay=0"
    assert [is_undefended(r.settings) for r in runs] == [True, False, False, False]


@pytest.mark.slow
def test_sweep_command_writes_csv_and_rejects_bad_grids(tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["sweep", "--grid", "label_smoothing=0,0.3", "--grid", "epochs=5", "--attacks", "loss", "--shadows",
                 "1", "--executor", "inline", "--quiet", "--out", str(out)]) == 0
    rows = read_csv(out)
    assert [r["label_smoothing"] for r in rows] == [0.0, 0.3] and "loss_tpr_at_1pct_fpr" in rows[0]
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--grid", "dropout=2", "--out", str(out)])
    assert e.value.code == 2 and "dropout must be in [0, 1)" in capsys.readouterr().err


def figures(auc: float, low: float, high: float, tpr: float | None, accuracy: float) -> dict:
    """One attack as a run's JSON holds it."""
    return {"auc": auc, "auc_ci": [low, high], "tpr_at_fpr": {"0.01": tpr, "0.001": None}, "accuracy": accuracy}


RUN_JSON = {"target": {"train_accuracy": 1.0, "test_accuracy": 0.831, "epsilon": None},
            "attacks": {"shadow": figures(0.83329, 0.799382, 0.86322575, 0.1, 0.7705),
                        "loss": figures(0.80855, 0.77741675, 0.83724475, None, 0.7855),  # a TPR not resolved
                        "seed_in_sample": figures(0.94337, 0.92729775, 0.9570602500000001, 0.16, 0.884)},
            "seconds": {"target": 12.5, "shadows": 40.25, "attacks": 1.125},
            "not_run": {"label_only": "needs labels-only answers"}}


def test_a_run_is_one_csv_row_with_empty_cells_for_what_it_lacks(tmp_path):
    run = DefenceRun.from_result({"dropout": 0.5, "dp_epsilon": None}, ExperimentConfig(train_size=100, seed=3),
                                 RUN_JSON)
    assert run.epsilon is None and run.attacks["loss"] == AttackFigures(0.80855, (0.77741675, 0.83724475), None, 0.7855)
    assert (run.best_attack, run.best_tpr, run.best_accuracy) == ("shadow", 0.1, 0.7855)  # the seed's fit aside
    assert run.not_run == {"label_only": "needs labels-only answers"}
    assert run.to_row() == {  # the sweep command's CSV columns, in order
        "dropout": 0.5, "dp_epsilon": "", "seed": 3, "members": 100, "train_accuracy": 1.0, "test_accuracy": 0.831,
        "gap": 0.16900000000000004, "epsilon": "",
        "shadow_auc": 0.83329, "shadow_auc_low": 0.799382, "shadow_auc_high": 0.86322575,
        "shadow_tpr_at_1pct_fpr": 0.1, "shadow_accuracy": 0.7705,
        "loss_auc": 0.80855, "loss_auc_low": 0.77741675, "loss_auc_high": 0.83724475, "loss_tpr_at_1pct_fpr": "",
        "loss_accuracy": 0.7855,
        "seed_in_sample_auc": 0.94337, "seed_in_sample_auc_low": 0.92729775,
        "seed_in_sample_auc_high": 0.9570602500000001, "seed_in_sample_tpr_at_1pct_fpr": 0.16,
        "seed_in_sample_accuracy": 0.884,
        "best_attack": "shadow", "best_auc": 0.83329, "best_auc_low": 0.799382, "best_auc_high": 0.86322575,
        "best_tpr": 0.1, "best_accuracy": 0.7855, "seconds": 53.875}
    (tmp_path / "sweep.csv").write_text(csv_text([run.to_row()]), newline="")
    [back] = read_sweep(tmp_path / "sweep.csv")
    assert back == replace(run, not_run={})  # all but why attacks did not run, which the CSV does not hold


@pytest.mark.parametrize("name", ["sweep.csv", "split_sweep.csv"])
def test_a_shipped_sweep_read_and_written_again_is_the_same_file(name):
    runs = read_sweep(SHIPPED / name)
    assert csv_text([run.to_row() for run in runs]) == (SHIPPED / name).read_bytes().decode()
    assert all(isinstance(run.seed, int) and run.best_auc_ci[0] <= run.best_auc <= run.best_auc_ci[1] for run in runs)


def test_a_csv_that_is_not_a_sweep_is_named_with_what_it_lacks(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("setting,epochs,attack\noverfit,20,shadow\n")
    with pytest.raises(ValueError, match="results.csv: not a sweep's CSV .*no seed, members"):
        read_sweep(path)
