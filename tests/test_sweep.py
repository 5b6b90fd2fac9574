import pytest

from mia_core.cli import main
from mia_core.config import ExperimentConfig, TrainConfig
from mia_core.experiment.reproduce import read_csv
from mia_core.experiment.sweep import configure, describe, is_undefended, parse_grid, sweep


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
    rows = sweep(base, digits, {"dropout": [0.0, 0.5], "weight_decay": [0.0, 1e-2]})
    assert [(r["dropout"], r["weight_decay"]) for r in rows] == [(0.0, 0.0), (0.0, 0.01), (0.5, 0.0), (0.5, 0.01)]
    assert all(r["best_auc"] == max(r["loss_auc"], r["shadow_auc"]) for r in rows)
    assert describe(rows[2]) == "dropout=0.5, weight_decay=0"
    assert [is_undefended(r) for r in rows] == [True, False, False, False]


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
