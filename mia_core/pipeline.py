"""The Shokri et al. pipeline, stage by stage: target, shadows, attacks, metrics.

Each stage is its own function so the app can run them one page at a time;
`run_experiment` chains them for the command line and the tests.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from .attacks import AttackData, MembershipAttack, make_attack
from .config import ExperimentConfig
from .data import Digits, Splits, make_splits
from .metrics import AttackMetrics, RocCurve, chance_band, evaluate
from .progress import Progress, ProgressFn, no_progress
from .references import ReferenceSet, train_references
from .training import EpochStats, accuracy, predict_logits, train_model


@dataclass
class TargetRun:
    config: ExperimentConfig
    splits: Splits
    model: nn.Module
    history: list[EpochStats]
    train_accuracy: float
    test_accuracy: float
    seconds: float

    @property
    def gap(self) -> float:
        return self.train_accuracy - self.test_accuracy

    @property
    def epsilon(self) -> float | None:
        """DP-SGD's epsilon spent (at `config.train.dp_delta`); None without DP."""
        return self.history[-1].epsilon if self.history else None

    def eval_records(self) -> tuple[np.ndarray, np.ndarray]:
        """Balanced held-out records: (indices, is_member). No attack ever trains on these
        (except the oracle, which is the point of the oracle)."""
        members = self.splits.eval_members(len(self.splits.non_members), seed=self.config.seed)
        index = np.concatenate([members, self.splits.non_members])
        return index, np.r_[np.ones(len(members), bool), np.zeros(len(self.splits.non_members), bool)]


@dataclass
class ShadowRun:
    models: list[nn.Module]
    data: AttackData  # every shadow's outputs on its own in and out records
    train_size: int  # records each shadow trained on
    seconds: float


@dataclass
class AttackRun:
    name: str
    attack: MembershipAttack
    metrics: AttackMetrics
    curve: RocCurve
    scores: np.ndarray  # member probability per evaluation record
    is_member: np.ndarray
    index: np.ndarray  # the evaluation records, as indices into the digits
    seconds: float


def split_for(cfg: ExperimentConfig, digits: Digits) -> Splits:
    return make_splits(len(digits), train_size=cfg.train_size, non_member_size=cfg.non_member_size,
                       test_size=cfg.test_size, seed=cfg.seed, min_shadow_pool=2, validation_size=cfg.validation_size)


def train_target(cfg: ExperimentConfig, digits: Digits, *, progress: ProgressFn = no_progress) -> TargetRun:
    start = time.perf_counter()
    splits = split_for(cfg, digits)
    x, y = digits.tensors(splits.members)
    test = digits.tensors(splits.test)
    validation = digits.tensors(splits.validation) if len(splits.validation) else None
    model, history = train_model(cfg.train, x, y, seed=cfg.seed, test=test, validation=validation,
                                 progress=progress, stage="target")
    return TargetRun(cfg, splits, model, history, train_accuracy=accuracy(model, x, y),
                     test_accuracy=accuracy(model, *test), seconds=time.perf_counter() - start)


def shadow_size(cfg: ExperimentConfig, splits: Splits) -> int:
    """Each shadow trains on as many records as the target, or on half the pool if that is smaller."""
    return min(cfg.train_size, len(splits.shadow_pool) // 2)


def train_shadows(cfg: ExperimentConfig, digits: Digits, splits: Splits, *,
                  progress: ProgressFn = no_progress) -> ShadowRun:
    """k shadows, each trained like the target on its own random in-half of the attacker's pool."""
    start = time.perf_counter()
    size = shadow_size(cfg, splits)
    models, parts = [], []
    for k in range(cfg.shadows):
        rng = np.random.default_rng([cfg.seed, 2, k])
        chosen = rng.choice(splits.shadow_pool, size=2 * size, replace=False)
        inside, outside = chosen[:size], chosen[size:]
        stage = f"shadow {k + 1}/{cfg.shadows}"
        # Early stopping, if the target used it, watches part of the shadow's own "out" half.
        validation = digits.tensors(outside[:cfg.validation_size]) if cfg.validation_size else None
        model, _ = train_model(cfg.train, *digits.tensors(inside), seed=cfg.seed * 1000 + k + 1,
                               validation=validation, progress=progress, stage=stage)
        both = np.concatenate([inside, outside])
        parts.append(AttackData(predict_logits(model, digits.tensors(both)[0]), digits.labels[both],
                                np.r_[np.ones(size, bool), np.zeros(size, bool)]))
        models.append(model)
    return ShadowRun(models, AttackData.concat(parts), size, time.perf_counter() - start)


def needs_references(names: tuple[str, ...]) -> bool:
    return any(make_attack(n).needs == "references" for n in names)


def train_references_for(target: TargetRun, digits: Digits, *, progress: ProgressFn = no_progress) -> ReferenceSet:
    cfg = target.config
    return train_references(cfg, digits, target.eval_records()[0], target.splits.shadow_pool,
                            count=cfg.references, progress=progress)


def run_attacks(target: TargetRun, shadows: ShadowRun | None, digits: Digits, names: tuple[str, ...] | None = None, *,
                references: ReferenceSet | None = None, progress: ProgressFn = no_progress) -> dict[str, AttackRun]:
    """Fit each attack on the attacker's data, score the target's held-out records, measure."""
    names = names or target.config.attacks
    index, is_member = target.eval_records()
    logits = predict_logits(target.model, digits.tensors(index)[0])
    labels = digits.labels[index]
    query = None
    if references is not None:
        population_logits = predict_logits(target.model, digits.tensors(references.population_index)[0])
        query = references.query(index, population_logits)
    fit_data = {"shadow": shadows.data if shadows else None, "references": references.data if references else None,
                "target_membership": AttackData(logits, labels, is_member)}
    runs = {}
    for i, name in enumerate(names, 1):
        start = time.perf_counter()
        attack = make_attack(name)
        if fit_data[attack.needs] is None:
            raise ValueError(f"attack {name!r} needs {attack.needs} models, and none were given")
        scores = attack.fit(fit_data[attack.needs]).score(logits, labels, query)
        metrics, curve = evaluate(scores, is_member)
        runs[name] = AttackRun(name, attack, metrics, curve, scores, is_member, index, time.perf_counter() - start)
        progress(Progress("attacks", i, len(names), {name + "_auc": metrics.auc}))
    return runs


@dataclass
class ExperimentResult:
    config: ExperimentConfig
    source: str
    target: TargetRun
    shadows: ShadowRun
    attacks: dict[str, AttackRun]
    seconds: dict[str, float] = field(default_factory=dict)
    references: ReferenceSet | None = None

    def to_json(self) -> dict:
        s = self.target.splits
        return {
            "config": self.config.to_dict(),
            "data": {"source": self.source, "members": len(s.members), "non_members": len(s.non_members),
                     "eval_members": len(s.non_members), "shadow_pool": len(s.shadow_pool), "test": len(s.test),
                     "shadow_train_size": self.shadows.train_size,
                     "references": 0 if self.references is None else len(self.references.models)},
            "target": {"train_accuracy": self.target.train_accuracy, "test_accuracy": self.target.test_accuracy,
                       "seconds": self.target.seconds, "epochs_run": len(self.target.history),
                       "epsilon": self.target.epsilon,
                       "delta": self.config.train.dp_delta if self.config.train.private else None},
            "attacks": {name: {**run.metrics.to_dict(), "seconds": run.seconds} for name, run in self.attacks.items()},
            "chance_band": list(chance_band(len(s.non_members), len(s.non_members))),  # AUCs a coin flip scores (95%)
            "seconds": self.seconds,
        }


def run_experiment(cfg: ExperimentConfig, digits: Digits, *, progress: ProgressFn = no_progress) -> ExperimentResult:
    target = train_target(cfg, digits, progress=progress)
    shadows = train_shadows(cfg, digits, target.splits, progress=progress)
    seconds = {"target": target.seconds, "shadows": shadows.seconds}
    references = None
    if needs_references(cfg.attacks):
        references = train_references_for(target, digits, progress=progress)
        seconds["references"] = references.seconds
    start = time.perf_counter()
    attacks = run_attacks(target, shadows, digits, references=references, progress=progress)
    seconds["attacks"] = time.perf_counter() - start
    return ExperimentResult(cfg, digits.source, target, shadows, attacks, seconds, references)
