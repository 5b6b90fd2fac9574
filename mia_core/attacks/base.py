"""The one attack interface: fit on what the attacker has, then a member score per sample."""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


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
