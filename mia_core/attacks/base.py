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

    def __post_init__(self):
        if not len(self.logits) == len(self.labels) == len(self.member):
            raise ValueError("logits, labels and member must have the same length")
        if self.member.all() or not self.member.any():
            raise ValueError("attack data needs both members and non-members")

    @staticmethod
    def concat(parts: list["AttackData"]) -> "AttackData":
        return AttackData(np.concatenate([p.logits for p in parts]),
                          np.concatenate([p.labels for p in parts]),
                          np.concatenate([p.member for p in parts]))


class MembershipAttack(ABC):
    """scikit-learn style: `__init__` stores parameters, `fit` returns self, fitted attributes end in `_`.

    `score` returns a member probability in [0, 1] per record (higher means member);
    the attack's own decision rule is `score >= 0.5`.
    """

    name: str = "attack"
    # True only for the oracle: it is fitted on the target's own membership, not on shadow data.
    uses_target_membership: bool = False

    @abstractmethod
    def fit(self, data: AttackData) -> "MembershipAttack": ...

    @abstractmethod
    def score(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray: ...

    def predict(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return self.score(logits, labels) >= 0.5
