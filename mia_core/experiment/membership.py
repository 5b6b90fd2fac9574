"""One digit in: the target's prediction, every attack's member probability, the strongest attack's verdict at a
fixed false-positive rate, and LiRA's picture of the digit under its reference models.

A verdict flags a record as a member when the attack's statistic exceeds the threshold at which `VERDICT_FPR`
of the attacker's own non-members (shadow or reference models' records they did not train on) would be
flagged. The target's membership labels never set it.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.special import softmax
from torch import nn

from ..attacks import MembershipAttack, ReferenceQuery
from ..attacks.base import VERDICT_FPR
from ..attacks.signals import scaled_true_class_confidence
from ..data import to_model_input
from ..drawing.preprocess import to_mnist
from ..training import predict_logits

# Which attack gives the verdict: the first of these that the target's attacker has, with at least this many
# reference models, and can set a threshold for. A fixed order from the literature (Carlini et al. 2022,
# Zarifzadeh et al. 2024), never chosen with the target's labels. Online LiRA's threshold comes from each reference
# model in turn scored against the others: with 2 or 3 models that leaves too few "in" and "out" models per record
# for the threshold to hold on a target scored against all of them; RMIA is built to work with 1 to 4.
VERDICT_PREFERENCE = {"lira_online": 4, "rmia": 2, "lira_offline": 2, "shadow": 0, "loss": 0}


@dataclass(frozen=True)
class Verdict:
    """One attack's decision on one record at a fixed false-positive rate."""

    attack: str
    flagged: bool  # the statistic exceeds the threshold
    statistic: float
    threshold: float
    fpr: float = VERDICT_FPR

    def right(self, member: bool) -> bool:
        """Whether the verdict matches the truth (known for pool digits; a drawing is a non-member)."""
        return self.flagged == bool(member)


@dataclass(frozen=True)
class LiraPicture:
    """LiRA's view of one record: its logit-scaled confidence log(p / (1 - p)) on its class under reference models
    that did not train on it ("out") and, for pool records, under those that did ("in"); the target's value."""

    label: int
    target: float  # the target model's value
    out_values: np.ndarray  # [k] one per reference model that did not train on the record
    in_values: np.ndarray  # [m] one per reference model that did (empty for a new digit)
    out_centre: float  # the centre of LiRA's "out" Gaussian: the mean of out_values, else in_centre - the learnt shift
    in_centre: float  # the centre of its "in" Gaussian: the mean of in_values, else out_centre + the learnt shift
    out_spread: float  # the standard deviation of the "out" Gaussian, as the attack uses it
    in_spread: float  # and of the "in" one

    def to_dict(self) -> dict:
        return {"label": self.label, "target": self.target, "out_values": self.out_values.tolist(),
                "in_values": self.in_values.tolist(), "out_centre": self.out_centre, "in_centre": self.in_centre,
                "out_spread": self.out_spread, "in_spread": self.in_spread}

    @classmethod
    def from_dict(cls, d: dict) -> "LiraPicture":
        return cls(int(d["label"]), float(d["target"]), np.asarray(d["out_values"], float),
                   np.asarray(d["in_values"], float), float(d["out_centre"]), float(d["in_centre"]),
                   float(d["out_spread"]), float(d["in_spread"]))


def lira_picture(attack: MembershipAttack, logits: np.ndarray, label: int, reference: ReferenceQuery) -> LiraPicture:
    """`attack`: a fitted LiRA; `logits` [C] the target's on the record; `reference` the reference models' view of
    this one record (logits [R, 1, C], keep [R, 1])."""
    labels = np.array([label])
    target = float(scaled_true_class_confidence(logits[None], labels)[0])
    values = scaled_true_class_confidence(reference.logits, labels)[:, 0]  # -> [R]
    keep = reference.keep[:, 0]
    mu_in, sd_in, mu_out, sd_out = (float(v[0]) for v in attack.gaussians(values[:, None], keep[:, None]))
    return LiraPicture(int(label), target, values[~keep], values[keep], mu_out, mu_in, sd_out, sd_in)


@dataclass(frozen=True)
class MembershipReport:
    image: np.ndarray  # uint8 [28, 28]: what the model saw
    probabilities: np.ndarray  # [10] softmax of the target's logits
    label: int  # the class the attacks condition on (given, else the prediction)
    member_probability: dict[str, float]  # attack name -> P(member)
    statistic: dict[str, float] = field(default_factory=dict)  # attack name -> its statistic (higher = member)
    threshold: dict[str, float | None] = field(default_factory=dict)  # attack name -> its threshold at VERDICT_FPR
    lira: LiraPicture | None = None  # when the target has LiRA and reference models
    references: int = 0  # how many reference models scored the record
    unseen: bool = False  # no reference model trained on the record (a drawing): no "in" evidence for online LiRA

    @property
    def predicted(self) -> int:
        return int(self.probabilities.argmax())

    def verdict_of(self, attack: str) -> Verdict | None:
        threshold = self.threshold.get(attack)
        if threshold is None or attack not in self.statistic:
            return None
        return Verdict(attack, self.statistic[attack] > threshold, self.statistic[attack], threshold)

    @property
    def verdict(self) -> Verdict | None:
        """The strongest attack's verdict, by `VERDICT_PREFERENCE`; None when no attack can set a threshold."""
        attack = verdict_attack(self.threshold, references=self.references, unseen=self.unseen)
        return None if attack is None else self.verdict_of(attack)


def verdict_attack(thresholds: dict[str, float | None], *, references: int, unseen: bool = False) -> str | None:
    """The attack whose verdict counts: the first in `VERDICT_PREFERENCE` with a threshold (attack name -> its
    threshold at VERDICT_FPR, or None) and at least its number of reference models. For records that no
    reference model trained on (`unseen`: drawings), online LiRA has no "in" models and only borrows their
    shift: the offline test (Carlini et al.'s attack for exactly this case) and RMIA come first."""
    return next((a for a, least in VERDICT_PREFERENCE.items()
                 if references >= least and thresholds.get(a) is not None and not (unseen and a == "lira_online")),
                None)


def query(model: nn.Module, image: np.ndarray, attacks: dict[str, MembershipAttack], *,
          label: int | None = None, reference: ReferenceQuery | None = None) -> MembershipReport:
    """`image` is a uint8 [28, 28] MNIST digit. Without `label`, attacks use the predicted class.
    Reference attacks (LiRA, RMIA) are scored only when `reference` gives their models' view."""
    logits = predict_logits(model, to_model_input(image[None]))  # -> [1, 10]
    label = int(logits.argmax()) if label is None else int(label)
    labels = np.array([label])
    usable = {name: a for name, a in attacks.items() if a.needs != "references" or reference is not None}
    statistic = {name: float(a.statistic(logits, labels, reference)[0]) for name, a in usable.items()}
    probs = {name: float(a.score(logits, labels, reference)[0]) for name, a in usable.items()}
    threshold = {name: a.threshold_at(VERDICT_FPR) for name, a in usable.items()}
    lira = next((usable[n] for n in ("lira_online", "lira_offline") if n in usable), None)
    picture = lira_picture(lira, logits[0], label, reference) if lira is not None else None
    return MembershipReport(image, softmax(logits[0]), label, probs, statistic, threshold, picture,
                            0 if reference is None else len(reference.logits),
                            unseen=reference is not None and not reference.keep.any())


def membership_report(canvas: np.ndarray | None, model: nn.Module, attacks: dict[str, MembershipAttack], *,
                      label: int | None = None, reference_of=None) -> MembershipReport:
    """A drawing (any size, RGBA/RGB/grey) -> preprocessing -> `query`. Raises EmptyDrawing on a blank canvas.
    `reference_of(image)` gives the reference models' view of the 28x28 image, for LiRA and RMIA."""
    image = to_mnist(canvas)
    return query(model, image, attacks, label=label, reference=reference_of(image) if reference_of else None)


@dataclass(frozen=True)
class Tally:
    """A session's verdicts on records whose truth is known: how many members and non-members were flagged."""

    members: int = 0
    flagged_members: int = 0
    non_members: int = 0
    flagged_non_members: int = 0

    def add(self, *, member: bool, flagged: bool) -> "Tally":
        if member:
            return Tally(self.members + 1, self.flagged_members + flagged, self.non_members, self.flagged_non_members)
        return Tally(self.members, self.flagged_members, self.non_members + 1, self.flagged_non_members + flagged)

    def sentence(self, fpr: float = VERDICT_FPR) -> str:
        """E.g. "flagged 9 of 20 members and 0 of 20 non-members; at 1% FPR a coin flip flags about 1 in 100 (0.2 of 20
        members, 0.2 of 20 non-members)"."""
        if not self.members + self.non_members:
            return "no verdicts yet"
        parts, chance = [], []
        for count, flagged, kind in ((self.members, self.flagged_members, "member"),
                                     (self.non_members, self.flagged_non_members, "non-member")):
            if count:
                parts.append(f"{flagged} of {count} {kind}{'s' * (count != 1)}")
                chance.append(f"{fpr * count:.2g} of {count} {kind}{'s' * (count != 1)}")
        return (f"flagged {' and '.join(parts)}; at {fpr:.0%} FPR a coin flip flags about 1 in {round(1 / fpr)} "
                f"({', '.join(chance)})")
