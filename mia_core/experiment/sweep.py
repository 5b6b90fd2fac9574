"""Sweeps over defence settings: each point a trained target attacked by every attack."""

import itertools
from dataclasses import replace

from ..attacks import REALISTIC
from ..config import ExperimentConfig, TrainConfig
from ..data import Digits
from ..progress import ProgressFn, no_progress
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


def sweep(base: ExperimentConfig, digits: Digits, grid: dict[str, list], *, progress: ProgressFn = no_progress) -> list[dict]:
    """One CSV-ready row per grid point, every point in this process one after another (the job runner runs
    them in parallel): the settings, the target's accuracy, every attack's AUC and TPR@1%FPR."""
    return [point_row(point, cfg, run_experiment(cfg, digits, progress=progress).to_json())
            for point, cfg in sweep_plan(base, grid)]


def point_row(point: dict, cfg: ExperimentConfig, result: dict) -> dict:
    """One flat row: the point's settings, the target's accuracy and epsilon, each attack's figures with
    the AUC's 95% interval, and the strongest realistic attack's (the seed's in-sample fit aside).
    An unresolved TPR is an empty cell."""
    t = result["target"]
    row = {**{k: ("" if v is None else v) for k, v in point.items()}, "seed": cfg.seed,
           "members": cfg.train_size, "train_accuracy": t["train_accuracy"], "test_accuracy": t["test_accuracy"],
           "gap": t["train_accuracy"] - t["test_accuracy"], "epsilon": "" if t["epsilon"] is None else t["epsilon"]}
    for name, m in result["attacks"].items():
        row[f"{name}_auc"], (row[f"{name}_auc_low"], row[f"{name}_auc_high"]) = m["auc"], m["auc_ci"]
        tpr = m["tpr_at_fpr"]["0.01"]
        row[f"{name}_tpr_at_1pct_fpr"] = "" if tpr is None else tpr
        row[f"{name}_accuracy"] = m["accuracy"]
    realistic = {n: m for n, m in result["attacks"].items() if n in REALISTIC}
    best = max(realistic, key=lambda n: realistic[n]["auc"])
    row["best_attack"], row["best_auc"] = best, realistic[best]["auc"]
    row["best_auc_low"], row["best_auc_high"] = realistic[best]["auc_ci"]
    tprs = [m["tpr_at_fpr"]["0.01"] for m in realistic.values() if m["tpr_at_fpr"]["0.01"] is not None]
    row["best_tpr"] = max(tprs) if tprs else ""
    row["best_accuracy"] = max(m["accuracy"] for m in realistic.values())
    row["seconds"] = sum(result["seconds"].values())
    return row


DEFENCES = ("dropout", "weight_decay", "label_smoothing", "dp_epsilon", "dp_noise", "early_stopping", "split_models",
            "labels_only")


def is_undefended(row: dict) -> bool:
    """No defence switched on at this point (other swept settings aside)."""
    return all(row.get(k) in (0, 0.0, "", None) for k in DEFENCES)


def describe(row: dict) -> str:
    """The defence settings of a row, in words, for chart labels."""
    parts = [f"{k}={row[k]:g}" if isinstance(row[k], float) else f"{k}={row[k]}"
             for k in SWEEPABLE if k in row and row[k] not in ("", None)]
    parts += ["labels only"] if row.get("labels_only") in (True, "True", 1.0) else []
    return ", ".join(parts) or "undefended"
