"""Sweeps over defence settings: each point a trained target attacked by every attack."""

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..attacks import REALISTIC
from ..config import ExperimentConfig, TrainConfig
from ..data import Digits
from ..progress import ProgressFn, no_progress
from .reproduce import read_csv
from .run import run_experiment

EXPERIMENT_FIELDS = {"train_size": int}
TRAIN_FIELDS = {"dropout": float, "weight_decay": float, "label_smoothing": float, "dp_epsilon": float,
                "dp_noise": float, "early_stopping": int, "epochs": int, "split_models": int, "split_held_out": int}
SWEEPABLE = {**EXPERIMENT_FIELDS, **TRAIN_FIELDS}


def parse_grid(items: list[str]) -> dict[str, list]:
    """["dropout=0,0.25,0.5", "weight_decay=0,1e-3"] -> {"dropout": [0.0, 0.25, 0.5], ...}."""
    grid = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not values:
            raise ValueError(f"grid entry {item!r} must look like NAME=V1,V2,...")
        if name not in SWEEPABLE:
            raise ValueError(f"cannot sweep {name!r}; choose from {sorted(SWEEPABLE)}")
        try:
            grid[name] = [None if v in ("none", "off") else SWEEPABLE[name](v) for v in values.split(",")]
        except ValueError:
            raise ValueError(f"grid entry {item!r}: values must be {SWEEPABLE[name].__name__}s") from None
    return grid


def configure(base: ExperimentConfig, point: dict) -> ExperimentConfig:
    """`base` with one grid point's values set (validated like any configuration)."""
    train = {k: v for k, v in point.items() if k in TRAIN_FIELDS}
    top = {k: v for k, v in point.items() if k in EXPERIMENT_FIELDS}
    return replace(replace(base, train=TrainConfig(**{**base.train.__dict__, **train})), **top)


def grid_points(grid: dict[str, list]) -> list[dict]:
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def sweep_plan(base: ExperimentConfig, grid: dict[str, list]) -> list[tuple[dict, ExperimentConfig]]:
    """(point, configuration) for every grid point, all validated before any training."""
    return [(point, configure(base, point)) for point in grid_points(grid)]


def sweep(base: ExperimentConfig, digits: Digits, grid: dict[str, list], *,
          progress: ProgressFn = no_progress) -> list["DefenceRun"]:
    """Every grid point trained and attacked, in this process one after another (the job runner runs them in
    parallel)."""
    return [DefenceRun.from_result(point, cfg, run_experiment(cfg, digits, progress=progress).to_json())
            for point, cfg in sweep_plan(base, grid)]


@dataclass(frozen=True)
class AttackFigures:
    """One attack's figures on one trained target, as a sweep's CSV row holds them."""

    auc: float
    auc_ci: tuple[float, float]  # 95% interval
    tpr: float | None  # TPR at 1% FPR; None where the non-members cannot resolve it
    accuracy: float


ROW_COLUMNS = ("seed", "members", "train_accuracy", "test_accuracy", "gap", "epsilon", "best_attack", "best_auc",
               "best_auc_low", "best_auc_high", "best_tpr", "best_accuracy", "seconds")  # besides settings and attacks


@dataclass(frozen=True)
class DefenceRun:
    """One target trained with some defence settings and attacked: one point of a sweep, one row of its CSV.
    The best attack is the strongest realistic one by AUC (the seed's in-sample fit aside)."""

    settings: dict  # the point's settings (a sweep's grid values; None: off)
    seed: int
    members: int  # the target's training-set size
    train_accuracy: float
    test_accuracy: float
    gap: float  # train minus test accuracy
    epsilon: float | None  # DP-SGD's accountant; None without DP
    attacks: dict[str, AttackFigures]
    best_attack: str
    best_auc: float
    best_auc_ci: tuple[float, float]
    best_tpr: float | None  # the highest resolved TPR at 1% FPR of the realistic attacks; None: none resolved
    best_accuracy: float  # the highest accuracy of the realistic attacks
    seconds: float  # every stage of the run
    not_run: dict[str, str] = field(default_factory=dict)  # attack -> why it could not run (not in the CSV)

    @classmethod
    def from_result(cls, point: dict, cfg: ExperimentConfig, result: dict) -> "DefenceRun":
        """`result`: the run's JSON (`run_experiment(...).to_json()`, or an experiment job's answer)."""
        t = result["target"]
        attacks = {name: AttackFigures(m["auc"], tuple(m["auc_ci"]), m["tpr_at_fpr"]["0.01"], m["accuracy"])
                   for name, m in result["attacks"].items()}
        realistic = {n: a for n, a in attacks.items() if n in REALISTIC}
        best = max(realistic, key=lambda n: realistic[n].auc)
        tprs = [a.tpr for a in realistic.values() if a.tpr is not None]
        return cls(settings=dict(point), seed=cfg.seed, members=cfg.train_size, train_accuracy=t["train_accuracy"],
                   test_accuracy=t["test_accuracy"], gap=t["train_accuracy"] - t["test_accuracy"],
                   epsilon=t["epsilon"], attacks=attacks, best_attack=best, best_auc=realistic[best].auc,
                   best_auc_ci=realistic[best].auc_ci, best_tpr=max(tprs) if tprs else None,
                   best_accuracy=max(a.accuracy for a in realistic.values()), seconds=sum(result["seconds"].values()),
                   not_run=dict(result.get("not_run", {})))

    def to_row(self) -> dict:
        """The sweep CSV's row: the settings, seed, members, the target's accuracies, gap and epsilon, each attack's
        AUC with its interval, TPR at 1% FPR and accuracy, then the best attack's. None is an empty cell."""
        row = {**{k: _cell(v) for k, v in self.settings.items()}, "seed": self.seed, "members": self.members,
               "train_accuracy": self.train_accuracy, "test_accuracy": self.test_accuracy, "gap": self.gap,
               "epsilon": _cell(self.epsilon)}
        for name, a in self.attacks.items():
            row.update({f"{name}_auc": a.auc, f"{name}_auc_low": a.auc_ci[0], f"{name}_auc_high": a.auc_ci[1],
                        f"{name}_tpr_at_1pct_fpr": _cell(a.tpr), f"{name}_accuracy": a.accuracy})
        row.update({"best_attack": self.best_attack, "best_auc": self.best_auc, "best_auc_low": self.best_auc_ci[0],
                    "best_auc_high": self.best_auc_ci[1], "best_tpr": _cell(self.best_tpr),
                    "best_accuracy": self.best_accuracy, "seconds": self.seconds})
        return row

    @classmethod
    def from_row(cls, row: dict) -> "DefenceRun":
        """A row of a sweep CSV, its cells as text or as `read_csv` gives them. The settings are the columns
        before `seed`, the attacks those with an `_auc` column before `best_attack`."""
        columns = list(row)
        missing = [c for c in ROW_COLUMNS if c not in row]
        if missing:
            raise ValueError(f"no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}")
        settings = {k: _setting(k, row[k]) for k in columns[:columns.index("seed")]}
        names = [c.removesuffix("_auc") for c in columns[columns.index("epsilon") + 1:columns.index("best_attack")]
                 if c.endswith("_auc")]
        attacks = {n: AttackFigures(float(row[f"{n}_auc"]), (float(row[f"{n}_auc_low"]), float(row[f"{n}_auc_high"])),
                                    _number(row[f"{n}_tpr_at_1pct_fpr"]), float(row[f"{n}_accuracy"])) for n in names}
        return cls(settings=settings, seed=int(float(row["seed"])), members=int(float(row["members"])),
                   train_accuracy=float(row["train_accuracy"]), test_accuracy=float(row["test_accuracy"]),
                   gap=float(row["gap"]), epsilon=_number(row["epsilon"]), attacks=attacks,
                   best_attack=str(row["best_attack"]), best_auc=float(row["best_auc"]),
                   best_auc_ci=(float(row["best_auc_low"]), float(row["best_auc_high"])),
                   best_tpr=_number(row["best_tpr"]), best_accuracy=float(row["best_accuracy"]),
                   seconds=float(row["seconds"]))


def _cell(value):
    """A CSV cell: None is an empty one."""
    return "" if value is None else value


def _number(cell) -> float | None:
    return None if cell in ("", None) else float(cell)


def _setting(name: str, cell):
    """A setting's cell as the grid gave it: empty is None, a sweepable setting its own type."""
    if cell in ("", None):
        return None
    return SWEEPABLE[name](float(cell)) if name in SWEEPABLE else cell


def read_sweep(path: str | Path) -> list[DefenceRun]:
    """A sweep CSV (`python -m mia_core sweep --out`), one run per row; a ValueError names a file that is not one."""
    try:
        return [DefenceRun.from_row(row) for row in read_csv(Path(path))]
    except (KeyError, ValueError) as err:  # a missing column, or a cell that is not a number
        raise ValueError(f"{Path(path).name}: not a sweep's CSV (python -m mia_core sweep --out): {err}") from None


DEFENCES = ("dropout", "weight_decay", "label_smoothing", "dp_epsilon", "dp_noise", "early_stopping", "split_models",
            "labels_only")


def is_undefended(settings: dict) -> bool:
    """No defence switched on in these settings (a sweep point's or a run's; other swept settings aside)."""
    return all(settings.get(k) in (0, 0.0, None) for k in DEFENCES)


def describe(settings: dict) -> str:
    """Settings (a sweep point's or a run's) in words, for chart labels."""
    parts = [f"{k}={settings[k]:g}" if isinstance(settings[k], float) else f"{k}={settings[k]}"
             for k in SWEEPABLE if settings.get(k) is not None]
    parts += ["labels only"] if settings.get("labels_only") in (True, "True", 1.0) else []
    return ", ".join(parts) or "undefended"
