"""Plant your digits: a target trained on the overfit demo's members plus some of an attendee's own
drawings, and every attack's member probability and verdict for each drawing, planted or kept out; beside it,
the baseline: the same drawings scored on the same target trained without any of them.

    drawings = Drawings.from_npz("mine.npz")  # images uint8 [n, 28, 28], labels [n], planted bool [n]
    result = plant_digits(plant_config(), digits, drawings)
    result.to_json()["attacks"]["loss"]["auc"]  # how well the loss attack tells planted from kept out
    result.to_json()["baseline"]["attacks"]["loss"]["auc"]  # the same, on the target that saw none of them

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
from dataclasses import dataclass, replace
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


@dataclass
class PlantResult:
    config: ExperimentConfig
    drawings: Drawings
    scores: DrawingScores  # on the target trained with the planted drawings
    baseline: DrawingScores | None  # on the same target trained without any drawing (None: not trained)
    accuracy: dict[str, float]  # the planted target on its members, the test set, the planted drawings
    baseline_accuracy: dict[str, float] | None  # the target without drawings on the test set and the drawings
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

    def to_json(self) -> dict:
        d, s, b = self.drawings, self.scores, self.baseline
        planted, kept_out = int(d.planted.sum()), int((~d.planted).sum())
        chosen = self.deciding_attack
        k = len(s.metrics)

        def flag(scores: DrawingScores, attack: str, i: int) -> bool | None:
            f = scores.flagged.get(attack)
            return None if f is None else bool(f[i])

        def counts(scores: DrawingScores | None) -> dict | None:
            f = scores.flagged.get(chosen) if chosen and scores is not None else None
            return None if f is None else {"planted": int(f[d.planted].sum()), "kept_out": int(f[~d.planted].sum())}

        return {
            "config": self.config.to_dict(),
            "data": {"planted": planted, "kept_out": kept_out},
            "target": self.accuracy,
            "attacker": self.attacker,
            "drawings": [{"label": int(d.labels[i]), "planted": bool(d.planted[i]), "predicted": int(s.predicted[i]),
                          "member_probability": {a: float(p[i]) for a, p in s.probability.items()},
                          "flagged": {a: flag(s, a, i) for a in s.probability},
                          "baseline_member_probability": None if b is None else {
                              a: float(p[i]) for a, p in b.probability.items()},
                          "baseline_flagged": None if b is None else {a: flag(b, a, i) for a in b.probability},
                          "lira": None if s.pictures is None else s.pictures[i].to_dict(),
                          "baseline_lira_target": None if b is None or b.pictures is None else b.pictures[i].target}
                         for i in range(len(d.labels))],
            "attacks": {a: m.to_dict() for a, m in s.metrics.items()},
            # the same drawings on the same target trained without any of them: where a fair test sits
            "baseline": None if b is None else {"target": self.baseline_accuracy,
                                                "attacks": {a: m.to_dict() for a, m in b.metrics.items()}},
            # the verdicts at VERDICT_FPR of the attack the Membership page uses, counted per side
            "verdict": {"attack": chosen, "fpr": VERDICT_FPR, "flagged": counts(s), "baseline_flagged": counts(b)},
            # AUCs a coin flip scores 95% of the time on this many planted and kept-out drawings
            "chance_band": list(chance_band(planted, kept_out)),
            # the same for the best of k attacks: Bonferroni-corrected, each band at 1 - 0.05 / k
            "chance_band_best_of": {"attacks": k, "band": list(chance_band(planted, kept_out, level=1 - 0.05 / k))},
            "seconds": self.seconds,
        }


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
    accuracy_of = {"train_accuracy": accuracy(trained.model, *both.tensors(spec.index)),
                   "test_accuracy": accuracy(trained.model, *digits.tensors(splits.test)),
                   "planted_accuracy": float(right[drawings.planted].mean()),
                   "kept_out_accuracy": float(right[~drawings.planted].mean())}
    baseline_of = None
    if without:
        base_right = base.predicted == drawings.labels
        baseline_of = {"test_accuracy": accuracy(without[0].model, *digits.tensors(splits.test)),
                       "planted_accuracy": float(base_right[drawings.planted].mean()),
                       "kept_out_accuracy": float(base_right[~drawings.planted].mean())}
    return PlantResult(cfg, drawings, scores, base, accuracy_of, baseline_of, attacker.source, attacker.attacks,
                       len(attacker.references.models),
                       {"attacker": attacker.seconds, "targets": trained.seconds + sum(w.seconds for w in without),
                        "scoring": time.perf_counter() - start})

