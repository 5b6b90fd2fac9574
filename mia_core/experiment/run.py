"""The Shokri et al. pipeline, stage by stage: target, shadows, attacks, metrics.

Each stage is its own function so the app can run them one page at a time;
`run_experiment` chains them for the command line and the tests.
"""

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
from torch import nn

from ..attacks import AttackData, MembershipAttack, ReferenceData, ReferenceQuery, make_attack
from ..config import ExperimentConfig
from ..data import Digits, Splits, make_splits, splits_around
from ..metrics import (LOW_FPRS, AttackMetrics, RocCurve, advantage_chance_band, chance_band, evaluate, most_exposed,
                       tpr_chance_band)
from ..progress import Progress, ProgressFn, no_progress
from ..training import EpochStats, accuracy, predict_logits
from ..training.altered_copies import label_answers
from ..training.many import uses_vmap_ensemble
from ..training.pool import InProcess, ModelSpec, TrainedModel
from .references import ReferenceSet, reference_plan, reference_set, reference_specs, train_references


EXPOSED = 10  # most exposed members kept per attack in the JSON
MIN_SHADOW_OUT = 50  # non-members a shadow model needs for the attack data (as many as its members, if fewer)


@dataclass
class TargetRun:
    config: ExperimentConfig
    splits: Splits
    model: nn.Module
    history: list[EpochStats]
    train_accuracy: float | None  # None: a model trained elsewhere whose training set is not known
    test_accuracy: float
    seconds: float
    weights: str | None = None  # a model trained elsewhere: where its weights came from (None: trained here)

    @property
    def gap(self) -> float | None:
        return None if self.train_accuracy is None else self.train_accuracy - self.test_accuracy

    @property
    def members_known(self) -> bool:
        return len(self.splits.members) > 0

    def role(self, index: int) -> str:
        """Which set one example belongs to, in words; for a model brought without its training set, unknown."""
        return self.splits.role(index) if self.members_known else "membership unknown"

    def pick_pools(self) -> dict[str, np.ndarray]:
        """The digits a person picks by number, as dataset indices: "members", "non_members" and "test", or only
        "non_members" when the training set is not known. A split's indices are sorted, and the embedded digits by
        class, so in index order a pool starts with all its 0s; here each is shuffled by the target's seed, which
        mixes the classes and keeps a number meaning the same digit on every server."""
        splits = self.splits
        parts = {"non_members": splits.non_members}
        if self.members_known:
            parts = {"members": splits.members, "non_members": splits.non_members, "test": splits.test}
        rng = np.random.default_rng([self.config.seed, 41])
        return {name: rng.permutation(part) for name, part in parts.items()}

    @property
    def epsilon(self) -> float | None:
        """DP-SGD's epsilon spent (at `config.train.dp_delta`); None without DP."""
        return self.history[-1].epsilon if self.history else None

    def eval_records(self) -> tuple[np.ndarray, np.ndarray]:
        return eval_records(self.config, self.splits)


def eval_records(cfg: ExperimentConfig, splits: Splits) -> tuple[np.ndarray, np.ndarray]:
    """Held-out records: (indices, is_member): `cfg.eval_members` members and every held-out
    non-member. No attack ever fits on these, except the seed's in-sample setting, which is its point."""
    members = splits.eval_members(min(cfg.eval_members, len(splits.members)), seed=cfg.seed)
    index = np.concatenate([members, splits.non_members])
    return index, np.r_[np.ones(len(members), bool), np.zeros(len(splits.non_members), bool)]


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
    statistic: np.ndarray  # the attack's evidence per evaluation record, higher = member: ROC figures use it
    probability: np.ndarray  # member probability per evaluation record (a monotone map of the statistic)
    is_member: np.ndarray
    index: np.ndarray  # the evaluation records, as indices into the digits
    seconds: float


def split_for(cfg: ExperimentConfig, digits: Digits) -> Splits:
    return make_splits(len(digits), train_size=cfg.train_size, non_member_size=cfg.non_members,
                       test_size=cfg.test_size, seed=cfg.seed, min_shadow_pool=2, validation_size=cfg.validation_size)


def check_feasible(cfg: ExperimentConfig, digits: Digits, *, members: np.ndarray | None = None) -> Splits:
    """Everything about `cfg` that can fail on this data fails here, before any training (with `members`:
    for a target trained elsewhere on them)."""
    splits = split_for(cfg, digits) if members is None else splits_around(
        members, len(digits), non_member_size=cfg.non_members, test_size=cfg.test_size, seed=cfg.seed)
    shadow_draw(cfg, splits.shadow_pool, 0)
    if needs_references(cfg.attacks):
        reference_plan(cfg, eval_records(cfg, splits)[0], splits.shadow_pool)
    return splits


def target_spec(cfg: ExperimentConfig, splits: Splits) -> ModelSpec:
    return ModelSpec(cfg.train, splits.members, cfg.seed, "target", validation=splits.validation, test=splits.test)


def target_run(cfg: ExperimentConfig, digits: Digits, splits: Splits, trained: TrainedModel) -> TargetRun:
    x, y = digits.tensors(splits.members)
    return TargetRun(cfg, splits, trained.model, trained.history, train_accuracy=accuracy(trained.model, x, y),
                     test_accuracy=accuracy(trained.model, *digits.tensors(splits.test)), seconds=trained.seconds)


def brought_target(cfg: ExperimentConfig, digits: Digits, model: nn.Module, members: np.ndarray, *,
                   weights: str) -> TargetRun:
    """A target trained elsewhere on `members`: the other digits give its non-members, test set and the
    attacker's pool. `cfg` says how the attacker's shadow and reference models train (the attacker's guess).
    With no members (a black box: its training set unknown), it can be queried, not evaluated; its "non-members"
    and test set are then only digits the attacker sets aside, and what the model did with them is unknown."""
    splits = splits_around(members, len(digits), non_member_size=cfg.non_members, test_size=cfg.test_size,
                           seed=cfg.seed)
    known = accuracy(model, *digits.tensors(splits.members)) if len(splits.members) else None
    return TargetRun(cfg, splits, model.eval(), [], train_accuracy=known,
                     test_accuracy=accuracy(model, *digits.tensors(splits.test)), seconds=0.0, weights=weights)


def train_target(cfg: ExperimentConfig, digits: Digits, *, progress: ProgressFn = no_progress) -> TargetRun:
    splits = split_for(cfg, digits)
    [trained] = InProcess().train([target_spec(cfg, splits)], digits, progress)
    return target_run(cfg, digits, splits, trained)


def shadow_draw(cfg: ExperimentConfig, pool: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shadow k's records from the attacker's pool: (trained on, early-stopping validation, kept out).

    A shadow trains exactly like the target: on as many records, with a validation split of the
    target's size when the target stops early. Its non-members for the attack data are kept apart
    from that validation split, as the target's are."""
    size, val = cfg.train_size, cfg.validation_size
    out = min(size, len(pool) - size - val)
    if out < min(size, MIN_SHADOW_OUT):
        raise ValueError(
            f"each shadow model trains on {size:,} digits like the target" + (f", keeps {val:,} for early stopping"
                                                                              if val else "")
            + f" and needs at least {min(size, MIN_SHADOW_OUT)} more as non-members, but the attacker's pool holds only "
            f"{len(pool):,}: use a smaller train size, or full MNIST (--data-dir)")
    order = np.random.default_rng([cfg.seed, 2, k]).permutation(pool)
    return order[:size], order[size:size + val], order[size + val:size + val + out]


def shadow_specs(cfg: ExperimentConfig, splits: Splits) -> list[ModelSpec]:
    """k shadows, each trained like the target on its own random draw from the attacker's pool, and answering, for
    the attack data, as many of its members as it has non-members, and those."""
    specs = []
    for k in range(cfg.shadows):
        inside, validation, outside = shadow_draw(cfg, splits.shadow_pool, k)
        specs.append(ModelSpec(cfg.train, inside, cfg.seed * 1000 + k + 1, f"shadow {k + 1}/{cfg.shadows}",
                               validation=validation, answer=np.concatenate([inside[:len(outside)], outside]),
                               answer_labels=reads_labels(cfg.attacks)))
    return specs


def shadow_run(cfg: ExperimentConfig, digits: Digits, splits: Splits, trained: list[TrainedModel]) -> ShadowRun:
    """The attack data: each shadow's answers (`shadow_specs`), its members first, labelled as such."""
    parts = []
    for spec, t in zip(shadow_specs(cfg, splits), trained, strict=True):
        out = len(spec.answer) // 2
        parts.append(AttackData(t.logits, digits.labels[spec.answer], np.r_[np.ones(out, bool), np.zeros(out, bool)],
                                t.label_answers))
    return ShadowRun([t.model for t in trained], AttackData.concat(parts), cfg.train_size,
                     sum(t.seconds for t in trained))


def train_shadows(cfg: ExperimentConfig, digits: Digits, splits: Splits, *, progress: ProgressFn = no_progress,
                  trainer=None) -> ShadowRun:
    """`trainer` (default: one after another, here) is an `InProcess` or a `ProcessPool`."""
    trained = (trainer or InProcess()).train(shadow_specs(cfg, splits), digits, progress)
    return shadow_run(cfg, digits, splits, trained)


def needs_references(names: tuple[str, ...]) -> bool:
    return any(make_attack(n).needs == "references" for n in names)


def reads_labels(names: tuple[str, ...]) -> bool:
    return any(make_attack(n).reads == "labels" for n in names)


def not_run(cfg: ExperimentConfig, names: tuple[str, ...]) -> dict[str, str]:
    """The attacks that cannot run against this target, and why."""
    if not cfg.labels_only:
        return {}
    return {n: "reads the target's confidence scores, and this target answers with labels only"
            for n in names if make_attack(n).reads == "confidence"}


def runnable(cfg: ExperimentConfig, names: tuple[str, ...]) -> tuple[str, ...]:
    skipped = not_run(cfg, names)
    return tuple(n for n in names if n not in skipped)


def train_references_for(target: TargetRun, digits: Digits, *, progress: ProgressFn = no_progress,
                         trainer=None) -> ReferenceSet:
    cfg = target.config
    return train_references(cfg, digits, target.eval_records()[0], target.splits.shadow_pool,
                            count=cfg.references, progress=progress, trainer=trainer)


@dataclass(frozen=True)
class HeldOut:
    """The target's answers on its held-out records (`eval_records`): what every attack scores."""

    index: np.ndarray  # [N] the records, as indices into the digits
    is_member: np.ndarray  # [N] bool
    logits: np.ndarray  # [N, C] the target's answers
    labels: np.ndarray  # [N]
    answers: np.ndarray | None  # [N, A] its labels for shifted copies, when an attack reads labels only
    query: ReferenceQuery | None  # the reference models' view of the records, when an attack needs them
    seed: int  # the bootstrap's


def held_out(target: TargetRun, digits: Digits, names: tuple[str, ...], *,
             references: ReferenceSet | None = None) -> HeldOut:
    index, is_member = target.eval_records()
    x = digits.tensors(index)[0]
    query = None
    if references is not None:
        population_logits = predict_logits(target.model, digits.tensors(references.population_index)[0])
        query = references.query(index, population_logits)
    return HeldOut(index, is_member, predict_logits(target.model, x), digits.labels[index],
                   label_answers(target.model, x) if reads_labels(names) else None, query, target.config.seed)


def attack_run(name: str, data: AttackData | ReferenceData, records: HeldOut) -> AttackRun:
    """One attack, fitted on the attacker's `data` (what `needs` names), scoring the held-out records, measured. A
    task for any process: a model worker runs it as well as this one."""
    start = time.perf_counter()
    attack = make_attack(name)
    statistic = attack.fit(data).statistic(records.logits, records.labels, records.query, records.answers)
    probability = attack.score(records.logits, records.labels, records.query, records.answers)
    metrics, curve = evaluate(statistic, probability, records.is_member, seed=records.seed)
    return AttackRun(name, attack, metrics, curve, statistic, probability, records.is_member, records.index,
                     time.perf_counter() - start)


def start_attacks(target: TargetRun, shadows: ShadowRun | None, digits: Digits, names: tuple[str, ...], *,
                  references: ReferenceSet | None = None, trainer=None) -> Iterator[AttackRun]:
    """The attacks' runs, as `trainer` gives them: an `InProcess` (the default) fits each here as it is read, a
    `ProcessPool` fits them all in its workers at once, and they come as each is done."""
    fit_data = {"shadow": shadows.data if shadows else None, "references": references.data if references else None}
    records = held_out(target, digits, names, references=references)
    fit_data["target_membership"] = AttackData(records.logits, records.labels, records.is_member, records.answers)
    needs = [make_attack(name).needs for name in names]
    for name, need in zip(names, needs):
        if fit_data[need] is None:
            raise ValueError(f"attack {name!r} needs {need} models, and none were given")
    return (trainer or InProcess()).imap_unordered(attack_run, names, [fit_data[need] for need in needs],
                                                    [records] * len(names))


def collect(runs: Iterable[AttackRun], names: tuple[str, ...], progress: ProgressFn) -> dict[str, AttackRun]:
    """The runs of `names` as they come, one progress count each; returned in the order of `names`."""
    done = {}
    for i, run in enumerate(runs, 1):
        done[run.name] = run
        progress(Progress("attacks", i, len(names), {run.name + "_auc": run.metrics.auc}))
    return {name: done[name] for name in names}


def run_attacks(target: TargetRun, shadows: ShadowRun | None, digits: Digits, names: tuple[str, ...] | None = None, *,
                references: ReferenceSet | None = None, progress: ProgressFn = no_progress,
                trainer=None) -> dict[str, AttackRun]:
    """Fit each attack on the attacker's data, score the target's held-out records, measure (in `trainer`'s
    workers, if it has any)."""
    names = runnable(target.config, target.config.attacks if names is None else names)
    if not names:
        return {}
    return collect(start_attacks(target, shadows, digits, names, references=references, trainer=trainer), names,
                   progress)


@dataclass
class ExperimentResult:
    config: ExperimentConfig
    source: str
    target: TargetRun
    shadows: ShadowRun
    attacks: dict[str, AttackRun]
    seconds: dict[str, float] = field(default_factory=dict)
    references: ReferenceSet | None = None
    training_wall: float | None = None  # seconds until every model was trained, side by side where they were

    def to_json(self) -> dict:
        s = self.target.splits
        evaluated = next(iter(self.attacks.values())).metrics
        refs = self.references
        return {
            "config": self.config.to_dict(),
            "data": {"source": self.source, "members": len(s.members), "non_members": len(s.non_members),
                     "eval_members": evaluated.members, "eval_non_members": evaluated.non_members,
                     "shadow_pool": len(s.shadow_pool), "test": len(s.test), "validation": len(s.validation),
                     "shadow_train_size": self.shadows.train_size,
                     "references": 0 if refs is None else len(refs.models),
                     "reference_pool": 0 if refs is None else len(refs.index),
                     "reference_train_size": 0 if refs is None else int(refs.data.keep.sum(axis=1).max()),
                     "population": 0 if refs is None else len(refs.population_index)},
            "target": {"weights": self.target.weights,
                       "train_accuracy": self.target.train_accuracy, "test_accuracy": self.target.test_accuracy,
                       "seconds": self.target.seconds, "epochs_run": len(self.target.history),
                       "epsilon": self.target.epsilon,
                       "delta": self.config.train.dp_delta if self.config.train.private else None},
            "attacks": {name: {**run.metrics.to_dict(), "seconds": run.seconds,
                               # the query setting a label-only attack chose on the shadow models
                               **({"query_setting": run.attack.setting_} if hasattr(run.attack, "setting_") else {})}
                        for name, run in self.attacks.items()},
            "not_run": not_run(self.config, self.config.attacks),  # attack -> why it could not run
            # the log-log ROC of each attack, and the members each is surest about: what a report draws
            "roc": {name: {"fpr": np.round(run.curve.fpr, 6).tolist(), "tpr": np.round(run.curve.tpr, 6).tolist()}
                    for name, run in self.attacks.items()},
            "most_exposed": {name: [{"index": int(run.index[i]), "probability": float(run.probability[i])}
                                    for i in most_exposed(run.probability, run.is_member, EXPOSED)]
                             for name, run in self.attacks.items()},
            # AUCs a coin flip scores 95% of the time on this many members and non-members
            "chance_band": list(chance_band(evaluated.members, evaluated.non_members)),
            # advantages a coin flip reaches 95% of the time (one-sided two-sample KS); and the best of the attacks
            "advantage_chance_band": list(advantage_chance_band(evaluated.members, evaluated.non_members)),
            "advantage_chance_band_best_of_attacks": list(advantage_chance_band(
                evaluated.members, evaluated.non_members, attacks=len(self.attacks))),
            # TPRs at each low FPR a coin flip stays within 95% of the time (None where unresolved); and the best
            "tpr_at_fpr_chance_band": {str(f): tpr_chance_band(evaluated.members, evaluated.non_members, f)
                                       for f in LOW_FPRS},
            "tpr_at_fpr_chance_band_best_of_attacks": {
                str(f): tpr_chance_band(evaluated.members, evaluated.non_members, f, attacks=len(self.attacks))
                for f in LOW_FPRS},
            "seconds": self.seconds,
            "training_wall_seconds": self.training_wall,
        }

    def record_scores(self) -> list[dict]:
        """One row per scored record: dataset index, true membership (1 member, 0 non-member), and each
        attack's statistic and member probability. Every metric can be recomputed from these rows."""
        first = next(iter(self.attacks.values()))
        rows = [{"index": int(i), "member": int(m)} for i, m in zip(first.index, first.is_member)]
        for name, run in self.attacks.items():
            for row, stat, prob in zip(rows, run.statistic, run.probability):
                row[f"{name}_statistic"], row[f"{name}_probability"] = float(stat), float(prob)
        return rows


def run_experiment(cfg: ExperimentConfig, digits: Digits, *, progress: ProgressFn = no_progress,
                   trainer=None, target: TargetRun | None = None) -> ExperimentResult:
    """Every model the run needs (target, shadows, references) is independent of the others: `trainer` (an
    `InProcess`, the default, or a `ProcessPool`) gets the target and shadows at once, then the reference models
    (so that which models train side by side, and so every figure of a seed, never depends on the attack list),
    then the attacks, which it runs too.
    With `target` (a model trained elsewhere, `brought_target`), only the attacker's models are trained.

    The attacks that need nothing but the target (the seed's in-sample fit) start as soon as it is back: on a
    `ProcessPool`, in a worker that has finished its models, while the last ones train."""
    trainer = trainer or InProcess()
    splits = check_feasible(cfg, digits) if target is None else target.splits
    shadow_plan = shadow_specs(cfg, splits)
    reference_training = None
    if needs_references(cfg.attacks) and not uses_vmap_ensemble(cfg.train):  # on CUDA, after, all at once
        reference_training = reference_specs(cfg, digits, eval_records(cfg, splits)[0], splits.shadow_pool,
                                          count=cfg.references)
    own = [target_spec(cfg, splits)] if target is None else []
    specs = [*own, *shadow_plan]
    names = runnable(cfg, cfg.attacks)
    on_target = tuple(n for n in names if make_attack(n).needs == "target_membership") if own else ()
    early: list[Iterator[AttackRun]] = []  # the attacks on the target alone, started once it is back
    made: dict[str, TargetRun] = {}  # the target trained here

    def target_back(trained: dict[int, TrainedModel]) -> None:
        if own and not made and 0 in trained:
            made["target"] = target_run(cfg, digits, splits, trained[0])
            if on_target:
                early.append(start_attacks(made["target"], None, digits, on_target, trainer=trainer))

    start = time.perf_counter()
    trained = trainer.train(specs, digits, progress, on_arrival=target_back)
    if reference_training:  # a task of their own: which models share a stack never depends on the attack list
        trained += trainer.train(reference_training.specs, digits, progress)
    wall = time.perf_counter() - start
    target_back(dict(enumerate(trained)))  # if the trainer did not call it
    target = made.get("target", target)
    trained = trained[len(own):]
    shadows = shadow_run(cfg, digits, splits, trained[:len(shadow_plan)])
    seconds = {"target": target.seconds, "shadows": shadows.seconds}  # each model's own training time, summed
    references = None
    if reference_training:
        references = reference_set(reference_training, digits, trained[len(shadow_plan):])
    elif needs_references(cfg.attacks):
        references = train_references_for(target, digits, progress=progress)
    if references is not None:
        seconds["references"] = references.seconds
    rest = tuple(n for n in names if n not in on_target)
    started = start_attacks(target, shadows, digits, rest, references=references, trainer=trainer) if rest else ()
    attacks = collect(chain(*early, started), names, progress)
    seconds["attacks"] = sum(run.seconds for run in attacks.values())  # each attack's own, wherever it ran
    return ExperimentResult(cfg, digits.source, target, shadows, attacks, seconds, references, training_wall=wall)
