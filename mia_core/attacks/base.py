"""The one attack interface: fit on what the attacker has, then a member score per sample."""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

VERDICT_FPR = 0.01  # a verdict on one record flags it as a member at this false-positive rate
MIN_FALSE_POSITIVES = 10  # a threshold at FPR f needs at least 10 / f of the attacker's own non-members


def threshold_at_fpr(null_statistic: np.ndarray, fpr: float) -> float | None:
    """The statistic a record must exceed (strictly) to be flagged, so that at most `fpr` of these
    non-members would be flagged; None when they are too few to resolve `fpr`, or when ties at the top
    leave no threshold that reaches it (more than `fpr` of them share the largest values)."""
    null = np.sort(np.asarray(null_statistic, dtype=np.float64))[::-1]  # -> [M], largest first
    allowed = int(np.floor(fpr * len(null)))  # false positives allowed
    if allowed < MIN_FALSE_POSITIVES:
        return None
    threshold = float(null[allowed])  # `allowed` values lie above it, at most
    if (null > threshold).sum() < allowed / 2:  # ties: the flagged share would fall far below fpr
        return None
    return threshold


@dataclass(frozen=True)
class AttackData:
    """Model outputs on records whose membership is known to whoever fits the attack."""

    logits: np.ndarray  # [R, C]
    labels: np.ndarray  # [R] true classes
    member: np.ndarray  # [R] bool: was this record in the training set of the model that produced it?
    label_answers: np.ndarray | None = None  # [R, A] the model's class for shifted copies (label-only attacks)

    def __post_init__(self):
        if not len(self.logits) == len(self.labels) == len(self.member):
            raise ValueError("logits, labels and member must have the same length")
        if self.label_answers is not None and len(self.label_answers) != len(self.labels):
            raise ValueError("label_answers must have one row per record")
        if self.member.all() or not self.member.any():
            raise ValueError("attack data needs both members and non-members")

    @staticmethod
    def concat(parts: list["AttackData"]) -> "AttackData":
        answers = [p.label_answers for p in parts]
        return AttackData(np.concatenate([p.logits for p in parts]),
                          np.concatenate([p.labels for p in parts]),
                          np.concatenate([p.member for p in parts]),
                          None if any(a is None for a in answers) else np.concatenate(answers))


@dataclass(frozen=True)
class ReferenceData:
    """What the attacker's reference models say: LiRA and RMIA fit on this.

    Each reference model trained on a random half of the reference pool (`keep`);
    none trained on the population samples.
    """

    logits: np.ndarray  # [R, P, C] every reference model on every pool example
    labels: np.ndarray  # [P]
    keep: np.ndarray  # [R, P] bool: reference model r trained on pool example p
    population_logits: np.ndarray  # [R, Z, C] on population samples outside the pool
    population_labels: np.ndarray  # [Z]

    def __post_init__(self):
        if self.logits.shape[:2] != self.keep.shape:
            raise ValueError(f"logits {self.logits.shape[:2]} and keep {self.keep.shape} disagree")
        if len(self.keep) < 2:
            raise ValueError(f"reference attacks need at least 2 reference models, got {len(self.keep)}")


@dataclass(frozen=True)
class ReferenceQuery:
    """The reference models' view of the records being scored."""

    logits: np.ndarray  # [R, N, C] every reference model on the queried records
    keep: np.ndarray  # [R, N] bool: did reference model r train on record n (all False for a new digit)
    target_population_logits: np.ndarray  # [Z, C] the target on the population samples


class MembershipAttack(ABC):
    """scikit-learn style: `__init__` stores parameters, `fit` returns self, fitted attributes end in `_`.

    `statistic` is the attack's own evidence per record, higher meaning member by construction:
    ROC figures (AUC, TPR at low FPR) come from it. `score` is a member probability in [0, 1],
    a strictly increasing map of the statistic (it never reorders records); the attack's
    decision rule is `score >= 0.5`.
    """

    name: str = "attack"
    # Fitted: `null_statistic_` [M], the statistic on the attacker's own known non-members (shadow or reference
    # models' records they did not train on), from which a verdict's threshold at a fixed FPR is set.
    # Never the target's membership: attacks that fit on it (the seed's in-sample fit) set none.
    # What the attack reads of the target's answers: "confidence" (probabilities or logits) or "labels" only.
    reads: str = "confidence"
    # What `fit` takes: "shadow" (AttackData from shadow models), "references" (ReferenceData),
    # or "target_membership" (the seed's in-sample setting only: the target's own true membership).
    needs: str = "shadow"

    @abstractmethod
    def fit(self, data) -> "MembershipAttack": ...

    @abstractmethod
    def statistic(self, logits: np.ndarray, labels: np.ndarray, reference: ReferenceQuery | None = None,
                  label_answers: np.ndarray | None = None) -> np.ndarray:
        """Evidence of membership per record from the target's logits [N, C] and labels [N]; higher = member.
        Reference attacks also need the reference models' view of the same records; label-only attacks,
        the target's class for shifted copies of each record (label_answers [N, A])."""

    def score(self, logits: np.ndarray, labels: np.ndarray, reference: ReferenceQuery | None = None,
              label_answers: np.ndarray | None = None) -> np.ndarray:
        """Member probability per record: the fitted monotone calibration of the statistic."""
        return self.calibrator_.probability(self.statistic(logits, labels, reference, label_answers))

    def predict(self, logits: np.ndarray, labels: np.ndarray, reference: ReferenceQuery | None = None,
                label_answers: np.ndarray | None = None) -> np.ndarray:
        return self.score(logits, labels, reference, label_answers) >= 0.5

    def threshold_at(self, fpr: float = VERDICT_FPR) -> float | None:
        """The statistic above which a record is flagged as a member at `fpr`, set on the attacker's own
        non-members (None if the attack has none, or too few to resolve `fpr`)."""
        null = getattr(self, "null_statistic_", None)
        return None if null is None else threshold_at_fpr(null, fpr)

    def flags(self, statistic: np.ndarray, fpr: float = VERDICT_FPR) -> np.ndarray | None:
        """Member verdicts at `fpr`: statistic [N] -> bool [N]; None when no threshold can be set."""
        threshold = self.threshold_at(fpr)
        return None if threshold is None else np.asarray(statistic) > threshold
