"""What the store says about a target, as typed records for a page: one row of the targets' table, a demo
target's headline figures, the answers of the jobs that train a target or keep a brought one."""

from dataclasses import dataclass

from ..training import EpochStats


@dataclass(frozen=True)
class StoredTarget:
    """One stored target, as its meta.json describes it."""

    name: str
    shipped: bool
    train_size: int
    epochs: int
    dropout: float
    weight_decay: float
    seed: int
    train_accuracy: float
    test_accuracy: float
    shadows: int  # shadow models kept with it (0: not attacked yet)
    created: str

    @classmethod
    def from_meta(cls, name: str, meta: dict, *, shipped: bool) -> "StoredTarget":
        cfg, t = meta["config"], meta["target"]
        return cls(name=name, shipped=shipped, train_size=cfg["train_size"], epochs=cfg["train"]["epochs"],
                   dropout=cfg["train"]["dropout"], weight_decay=cfg["train"]["weight_decay"], seed=cfg["seed"],
                   train_accuracy=t["train_accuracy"], test_accuracy=t["test_accuracy"],
                   shadows=(meta["shadows"] or {}).get("count", 0), created=meta["created"])


@dataclass(frozen=True)
class DemoSummary:
    """A demo target's accuracies and its shadow-attack AUC with the AUC's 95% interval, as stored."""

    train_accuracy: float
    test_accuracy: float
    shadow_auc: float | None  # None: not attacked with shadow models yet
    shadow_auc_ci: tuple[float, float] | None
    shipped: bool

    @classmethod
    def from_meta(cls, meta: dict, *, shipped: bool) -> "DemoSummary":
        shadow = meta["metrics"].get("shadow")
        return cls(train_accuracy=meta["target"]["train_accuracy"], test_accuracy=meta["target"]["test_accuracy"],
                   shadow_auc=shadow["auc"] if shadow else None,
                   shadow_auc_ci=tuple(shadow["auc_ci"]) if shadow and shadow["auc_ci"] is not None else None,
                   shipped=shipped)


@dataclass(frozen=True)
class TrainedTarget:
    """A training job's answer: the target kept under `name`."""

    name: str
    train_accuracy: float
    test_accuracy: float
    gap: float  # train minus test accuracy
    seconds: float

    @classmethod
    def from_result(cls, result: dict) -> "TrainedTarget":
        return cls(**{k: result[k] for k in ("name", "train_accuracy", "test_accuracy", "gap", "seconds")})


@dataclass(frozen=True)
class BroughtTarget:
    """An upload job's answer: the brought model kept under `name`, with its strongest attack when its members
    are known (without them it is a black box, and its train accuracy is unknown)."""

    name: str
    test_accuracy: float
    train_accuracy: float | None
    strongest: str | None  # the attack with the highest AUC
    strongest_auc: float | None
    strongest_auc_ci: tuple[float, float] | None

    @classmethod
    def from_result(cls, result: dict) -> "BroughtTarget":
        if not result["members_known"]:
            return cls(result["name"], result["test_accuracy"], None, None, None, None)
        best, m = max(result["attacks"].items(), key=lambda kv: kv[1]["auc"])
        return cls(result["name"], result["test_accuracy"], result["train_accuracy"], best, m["auc"],
                   None if m["auc_ci"] is None else tuple(m["auc_ci"]))


def history_of(meta: dict) -> list[EpochStats]:
    """The stored target's training curve, one entry per epoch."""
    return [EpochStats(**h) for h in meta["target"]["history"]]
