"""Plant your digits: a target trained on the overfit demo's members plus some of an attendee's own
drawings, and every attack's member probability and verdict for each drawing, planted or kept out; beside it,
the baseline: the same drawings scored on the same target trained without any of them.

    drawings = Drawings.from_npz("mine.npz")  # images uint8 [n, 28, 28], labels [n], planted bool [n]
    outcome = plant_digits(plant_config(), digits, drawings).outcome()
    outcome.attacks["loss"].auc  # how well the loss attack tells planted from kept out
    outcome.baseline_attacks["loss"].auc  # the same, on the target that saw none of them

Planted and kept-out drawings should show the same digits: with different digits on each side, an attack
partly measures the digit's class, which the baseline then shows as an AUC away from 0.5.

The drawings are appended to the digits as records N, N+1, ... for the target's training only. The
attacker's side (shadow and reference models, fitted attacks) never sees them: it is trained from the
attacker's pool as for the demo, or taken from a stored target of the very same configuration, which
holds exactly those models. The kept-out drawings are scored as new digits, as the planted ones are.
"""

import base64
import time
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..attacks import MembershipAttack, ReferenceQuery
from ..attacks.base import VERDICT_FPR
from ..config import ExperimentConfig
from ..data import Digits, to_model_input
from ..drawing.preprocess import INK_THRESHOLD, MIN_INK_PIXELS
from ..experiment.membership import LiraPicture, lira_picture, verdict_attack
from ..experiment.references import ReferenceSet, reference_set, reference_specs
from ..experiment.run import check_feasible, eval_records, shadow_run, shadow_specs, target_spec
from ..metrics import AttackMetrics, chance_band, evaluate
from ..progress import ProgressFn, no_progress
from ..storage.targets import demo_configs, fit_attacks
from ..training import accuracy, predict_logits
from ..training.pool import InProcess

MAX_DRAWINGS = 40  # up to 20 planted and 20 kept out: they join the overfit demo's members
PLANT_BASE = "demo-overfit"  # the demo target whose configuration a planted target trains with


class DrawingsError(ValueError):
    """Drawings that cannot be planted: the message says why."""


@dataclass(frozen=True)
class Drawings:
    images: np.ndarray  # uint8 [n, 28, 28], MNIST-style (white on black)
    labels: np.ndarray  # int64 [n], the digit each one shows
    planted: np.ndarray  # bool [n]: trained on by the target, or kept out

    def __post_init__(self):
        n = len(self.images)
        if self.images.dtype != np.uint8 or self.images.ndim != 3 or self.images.shape[1:] != (28, 28):
            raise DrawingsError(f"images must be uint8 [n, 28, 28], got {self.images.dtype} {list(self.images.shape)}")
        if self.labels.shape != (n,) or self.planted.shape != (n,):
            raise DrawingsError(f"{n} images need {n} labels and {n} planted flags, got {len(self.labels)} and "
                                f"{len(self.planted)}")
        if not 2 <= n <= MAX_DRAWINGS:
            raise DrawingsError(f"{n} drawings: plant between 2 and {MAX_DRAWINGS}")
        if self.labels.min() < 0 or self.labels.max() > 9:
            raise DrawingsError("labels must be digits 0-9")
        if self.planted.all() or not self.planted.any():
            raise DrawingsError("plant some drawings and keep at least one out: the attacks are measured on "
                                "telling one kind from the other")
        blank = [i for i, image in enumerate(self.images) if (image > INK_THRESHOLD).sum() < MIN_INK_PIXELS]
        if blank:
            raise DrawingsError(f"drawing {blank[0]} is blank")

    @classmethod
    def of(cls, images, labels, planted) -> "Drawings":
        return cls(np.asarray(images), np.asarray(labels, dtype=np.int64), np.asarray(planted, dtype=bool))

    @classmethod
    def from_npz(cls, path: str | Path) -> "Drawings":
        """An .npz holding `images` (uint8 [n, 28, 28]), `labels` and a boolean `planted`."""
        try:
            with np.load(path, allow_pickle=False) as f:
                missing = {"images", "labels", "planted"} - set(f.files)
                if missing:
                    raise DrawingsError(f"{path}: no {', '.join(sorted(missing))} in it (needs images, labels, planted)")
                images, labels, planted = f["images"], f["labels"], f["planted"]
        except FileNotFoundError:
            raise DrawingsError(f"no drawings file {str(path)!r}") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:  # not an npz, truncated, or pickled objects
            raise DrawingsError(f"{path}: not a NumPy .npz of arrays ({str(err)[:120]})") from None
        if planted.dtype != bool or not np.issubdtype(labels.dtype, np.integer):
            raise DrawingsError(f"{path}: labels must be integers and planted booleans")
        return cls.of(images, labels, planted)

    def to_params(self) -> dict:
        """JSON-able, for a job's parameters (and so its key)."""
        return {"images": base64.b64encode(np.ascontiguousarray(self.images).tobytes()).decode(),
                "labels": self.labels.tolist(), "planted": self.planted.tolist()}

    @classmethod
    def from_params(cls, params: dict) -> "Drawings":
        images = np.frombuffer(base64.b64decode(params["images"]), np.uint8).reshape(-1, 28, 28)
        return cls.of(images.copy(), params["labels"], params["planted"])


def plant_config(*, seed: int | None = None) -> ExperimentConfig:
    """The overfit demo's configuration (its attacks and reference models included), with `seed`."""
    cfg = demo_configs()[PLANT_BASE]
    return cfg if seed is None else replace(cfg, seed=seed)


@dataclass(frozen=True)
class Attacker:
    """What the attacker brings: attacks fitted on shadow models, and reference models for LiRA and RMIA."""

    attacks: dict[str, MembershipAttack]
    references: ReferenceSet
    source: str  # in words: trained for this run, or whose stored models these are
    seconds: float = 0.0  # to train them, or to load them and fit the attacks


def train_attacker(cfg: ExperimentConfig, digits: Digits, *, progress: ProgressFn = no_progress,
                   trainer=None) -> Attacker:
    """The demo's shadows and references for `cfg`, all trained at once by `trainer`."""
    start = time.perf_counter()
    splits = check_feasible(cfg, digits)
    shadows = shadow_specs(cfg, splits)
    references = reference_specs(cfg, digits, eval_records(cfg, splits)[0], splits.shadow_pool, count=cfg.references)
    trained = (trainer or InProcess()).train([*shadows, *references.specs], digits, progress)
    reference_models = reference_set(references, digits, trained[len(shadows):])
    return Attacker(fit_attacks(shadow_run(cfg, digits, splits, trained[:len(shadows)]).data, reference_models),
                    reference_models, "trained for this run", time.perf_counter() - start)


@dataclass(frozen=True)
class DrawingScores:
    """Every attack's view of the drawings on one target."""

    predicted: np.ndarray  # [n] the target's class for each drawing
    probability: dict[str, np.ndarray]  # attack -> member probability per drawing [n]
    flagged: dict[str, np.ndarray | None]  # attack -> flagged as a member at VERDICT_FPR [n]; None: no threshold
    metrics: dict[str, AttackMetrics]  # attack -> telling planted from kept-out drawings
    pictures: list[LiraPicture] | None  # LiRA's picture of each drawing, when the attacker has LiRA


def score_drawings(model, attacker: Attacker, digits: Digits, drawings: Drawings, *, seed: int) -> DrawingScores:
    """Score every drawing with every attack on `model`; no reference model saw any drawing."""
    x = to_model_input(drawings.images)  # [n, 1, 28, 28]
    logits = predict_logits(model, x)  # [n, 10]
    population = predict_logits(model, digits.tensors(attacker.references.population_index)[0])
    reference = attacker.references.query_new(x, population)
    probability, flagged, metrics = {}, {}, {}
    for name, attack in attacker.attacks.items():
        statistic = attack.statistic(logits, drawings.labels, reference)
        probability[name] = attack.score(logits, drawings.labels, reference)
        flagged[name] = attack.flags(statistic, VERDICT_FPR)
        metrics[name] = evaluate(statistic, probability[name], drawings.planted, seed=seed)[0]
    lira = next((attacker.attacks[n] for n in ("lira_online", "lira_offline") if n in attacker.attacks), None)
    pictures = None if lira is None else [
        lira_picture(lira, logits[i], int(drawings.labels[i]),
                     ReferenceQuery(reference.logits[:, [i]], reference.keep[:, [i]], population))
        for i in range(len(drawings.labels))]
    return DrawingScores(logits.argmax(1), probability, flagged, metrics, pictures)


@dataclass(frozen=True)
class DrawingAccuracy:
    """A target's test accuracy, and the share of the planted and of the kept-out drawings it names right."""

    test_accuracy: float
    planted_accuracy: float
    kept_out_accuracy: float
    train_accuracy: float | None = None  # on its members and the planted drawings (None: not measured, the baseline)

    def to_dict(self) -> dict:
        return {**({} if self.train_accuracy is None else {"train_accuracy": self.train_accuracy}),
                "test_accuracy": self.test_accuracy, "planted_accuracy": self.planted_accuracy,
                "kept_out_accuracy": self.kept_out_accuracy}

    @classmethod
    def from_dict(cls, d: dict) -> "DrawingAccuracy":
        return cls(d["test_accuracy"], d["planted_accuracy"], d["kept_out_accuracy"], d.get("train_accuracy"))


@dataclass(frozen=True)
class Flagged:
    """How many planted and kept-out drawings an attack flagged as members."""

    planted: int
    kept_out: int


@dataclass(frozen=True)
class PlantedDrawing:
    """One drawing as the attacks see it: on the target trained with the planted drawings, and on the baseline."""

    label: int
    planted: bool
    predicted: int  # the target's class for it
    member_probability: dict[str, float]  # attack -> member probability
    flagged: dict[str, bool | None]  # attack -> flagged as a member at VERDICT_FPR; None: the attack has no threshold
    baseline_member_probability: dict[str, float] | None  # the same on the baseline (None: no baseline)
    baseline_flagged: dict[str, bool | None] | None
    lira: LiraPicture | None  # LiRA's picture of it, when the attacker has LiRA
    baseline_lira_target: float | None  # the baseline's value on LiRA's picture

    def to_dict(self) -> dict:
        return {"label": self.label, "planted": self.planted, "predicted": self.predicted,
                "member_probability": self.member_probability, "flagged": self.flagged,
                "baseline_member_probability": self.baseline_member_probability,
                "baseline_flagged": self.baseline_flagged, "lira": None if self.lira is None else self.lira.to_dict(),
                "baseline_lira_target": self.baseline_lira_target}

    @classmethod
    def from_dict(cls, d: dict) -> "PlantedDrawing":
        return cls(d["label"], d["planted"], d["predicted"], d["member_probability"], d["flagged"],
                   d["baseline_member_probability"], d["baseline_flagged"],
                   None if d["lira"] is None else LiraPicture.from_dict(d["lira"]), d["baseline_lira_target"])


@dataclass(frozen=True)
class PlantOutcome:
    """What a plant job answers, typed: the target trained with the planted drawings, every attack's view of each
    drawing and its figures for telling planted from kept-out drawings, and the same on the baseline (the same
    target trained without any drawing). `to_json` is the job's answer and the command line's JSON; `from_json`
    reads either back."""

    config: ExperimentConfig
    planted: int  # how many drawings were planted
    kept_out: int
    target: DrawingAccuracy
    attacker: str  # in words: whose shadow and reference models the attacks used
    drawings: tuple[PlantedDrawing, ...]
    attacks: dict[str, AttackMetrics]  # attack -> telling the planted from the kept-out drawings
    baseline_target: DrawingAccuracy | None  # None: no baseline trained
    baseline_attacks: dict[str, AttackMetrics] | None
    verdict_attack: str | None  # the attack whose verdicts count, as on the Membership page for a drawing
    verdict_fpr: float
    flagged: Flagged | None  # its verdicts, counted per side (None: no verdict attack)
    baseline_flagged: Flagged | None
    chance_band: tuple[float, float]  # AUCs a coin flip scores 95% of the time on this many drawings
    best_of: int  # how many attacks the best is picked from
    chance_band_best_of: tuple[float, float]  # the same for the best of them: Bonferroni, each at 1 - 0.05 / k
    seconds: dict[str, float]  # per stage

    def to_json(self) -> dict:
        return {
            "config": self.config.to_dict(),
            "data": {"planted": self.planted, "kept_out": self.kept_out},
            "target": self.target.to_dict(),
            "attacker": self.attacker,
            "drawings": [d.to_dict() for d in self.drawings],
            "attacks": {a: m.to_dict() for a, m in self.attacks.items()},
            "baseline": None if self.baseline_target is None else {
                "target": self.baseline_target.to_dict(),
                "attacks": {a: m.to_dict() for a, m in self.baseline_attacks.items()}},
            "verdict": {"attack": self.verdict_attack, "fpr": self.verdict_fpr,
                        "flagged": None if self.flagged is None else asdict(self.flagged),
                        "baseline_flagged": None if self.baseline_flagged is None else asdict(self.baseline_flagged)},
            "chance_band": list(self.chance_band),
            "chance_band_best_of": {"attacks": self.best_of, "band": list(self.chance_band_best_of)},
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, d: dict) -> "PlantOutcome":
        baseline, verdict = d["baseline"], d["verdict"]
        flagged, baseline_flagged = verdict["flagged"], verdict["baseline_flagged"]
        return cls(config=ExperimentConfig.from_dict(d["config"]), planted=d["data"]["planted"],
                   kept_out=d["data"]["kept_out"], target=DrawingAccuracy.from_dict(d["target"]),
                   attacker=d["attacker"], drawings=tuple(PlantedDrawing.from_dict(r) for r in d["drawings"]),
                   attacks={a: AttackMetrics.from_dict(m) for a, m in d["attacks"].items()},
                   baseline_target=None if baseline is None else DrawingAccuracy.from_dict(baseline["target"]),
                   baseline_attacks=None if baseline is None else {
                       a: AttackMetrics.from_dict(m) for a, m in baseline["attacks"].items()},
                   verdict_attack=verdict["attack"], verdict_fpr=verdict["fpr"],
                   flagged=None if flagged is None else Flagged(**flagged),
                   baseline_flagged=None if baseline_flagged is None else Flagged(**baseline_flagged),
                   chance_band=tuple(d["chance_band"]),
                   best_of=d["chance_band_best_of"]["attacks"],
                   chance_band_best_of=tuple(d["chance_band_best_of"]["band"]), seconds=d["seconds"])


@dataclass
class PlantResult:
    config: ExperimentConfig
    drawings: Drawings
    scores: DrawingScores  # on the target trained with the planted drawings
    baseline: DrawingScores | None  # on the same target trained without any drawing (None: not trained)
    accuracy: DrawingAccuracy  # the planted target on its members, the test set, the planted drawings
    baseline_accuracy: DrawingAccuracy | None  # the target without drawings on the test set and the drawings
    attacker: str
    attacks: dict[str, MembershipAttack]  # the attacker's fitted attacks
    references: int  # how many reference models the attacker has
    seconds: dict[str, float]

    @property
    def deciding_attack(self) -> str | None:
        """The attack whose verdicts count, as on the Membership page for a drawing (no reference model trained on
        any drawing)."""
        thresholds = {a: attack.threshold_at(VERDICT_FPR) for a, attack in self.attacks.items()}
        return verdict_attack(thresholds, references=self.references, unseen=True)

    def outcome(self) -> PlantOutcome:
        d, s, b = self.drawings, self.scores, self.baseline
        planted, kept_out = int(d.planted.sum()), int((~d.planted).sum())
        chosen = self.deciding_attack
        k = len(s.metrics)

        def flag(scores: DrawingScores, attack: str, i: int) -> bool | None:
            f = scores.flagged.get(attack)
            return None if f is None else bool(f[i])

        def counts(scores: DrawingScores | None) -> Flagged | None:
            f = scores.flagged.get(chosen) if chosen and scores is not None else None
            return None if f is None else Flagged(int(f[d.planted].sum()), int(f[~d.planted].sum()))

        drawings = tuple(PlantedDrawing(
            label=int(d.labels[i]), planted=bool(d.planted[i]), predicted=int(s.predicted[i]),
            member_probability={a: float(p[i]) for a, p in s.probability.items()},
            flagged={a: flag(s, a, i) for a in s.probability},
            baseline_member_probability=None if b is None else {a: float(p[i]) for a, p in b.probability.items()},
            baseline_flagged=None if b is None else {a: flag(b, a, i) for a in b.probability},
            lira=None if s.pictures is None else s.pictures[i],
            baseline_lira_target=None if b is None or b.pictures is None else b.pictures[i].target)
            for i in range(len(d.labels)))
        return PlantOutcome(
            config=self.config, planted=planted, kept_out=kept_out, target=self.accuracy, attacker=self.attacker,
            drawings=drawings, attacks=dict(s.metrics), baseline_target=None if b is None else self.baseline_accuracy,
            baseline_attacks=None if b is None else dict(b.metrics), verdict_attack=chosen, verdict_fpr=VERDICT_FPR,
            flagged=counts(s), baseline_flagged=counts(b), chance_band=tuple(chance_band(planted, kept_out)), best_of=k,
            chance_band_best_of=tuple(chance_band(planted, kept_out, level=1 - 0.05 / k)), seconds=self.seconds)

    def to_json(self) -> dict:
        return self.outcome().to_json()


def plant_digits(cfg: ExperimentConfig, digits: Digits, drawings: Drawings, *, attacker: Attacker | None = None,
                 baseline: bool = True, progress: ProgressFn = no_progress, trainer=None) -> PlantResult:
    """Train `cfg`'s target on its members plus the planted drawings, and (with `baseline`) the same target
    without any drawing; score every drawing with every attack on both."""
    splits = check_feasible(cfg, digits)
    attacker = attacker or train_attacker(cfg, digits, progress=progress, trainer=trainer)

    both = Digits(np.concatenate([digits.images, drawings.images]), np.concatenate([digits.labels, drawings.labels]),
                  source=f"{digits.source} and {len(drawings.labels)} drawings")
    planted = len(digits) + np.flatnonzero(drawings.planted)  # the planted drawings' indices in `both`
    spec = replace(target_spec(cfg, splits), index=np.concatenate([splits.members, planted]),
                   stage="target with your digits")
    unplanted = replace(target_spec(cfg, splits), stage="the same target without your digits")
    # here: a worker process has only the shared digits
    trained, *without = InProcess().train([spec, unplanted] if baseline else [spec], both, progress)

    start = time.perf_counter()
    scores = score_drawings(trained.model, attacker, digits, drawings, seed=cfg.seed)
    base = score_drawings(without[0].model, attacker, digits, drawings, seed=cfg.seed) if without else None
    right = scores.predicted == drawings.labels
    accuracy_of = DrawingAccuracy(test_accuracy=accuracy(trained.model, *digits.tensors(splits.test)),
                                  planted_accuracy=float(right[drawings.planted].mean()),
                                  kept_out_accuracy=float(right[~drawings.planted].mean()),
                                  train_accuracy=accuracy(trained.model, *both.tensors(spec.index)))
    baseline_of = None
    if without:
        base_right = base.predicted == drawings.labels
        baseline_of = DrawingAccuracy(test_accuracy=accuracy(without[0].model, *digits.tensors(splits.test)),
                                      planted_accuracy=float(base_right[drawings.planted].mean()),
                                      kept_out_accuracy=float(base_right[~drawings.planted].mean()))
    return PlantResult(cfg, drawings, scores, base, accuracy_of, baseline_of, attacker.source, attacker.attacks,
                       len(attacker.references.models),
                       {"attacker": attacker.seconds, "targets": trained.seconds + sum(w.seconds for w in without),
                        "scoring": time.perf_counter() - start})

