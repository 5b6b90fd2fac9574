"""Attack metrics on balanced held-out members and non-members, via sklearn.metrics."""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn import metrics as skm

LOW_FPRS = (0.01, 0.001)


@dataclass(frozen=True)
class RocCurve:
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float

    def tpr_at_fpr(self, max_fpr: float) -> float:
        """The highest TPR among operating points whose FPR is at most `max_fpr`."""
        ok = self.fpr <= max_fpr
        return float(self.tpr[ok].max()) if ok.any() else 0.0

    @property
    def advantage(self) -> float:
        """Attacker advantage, max(TPR - FPR) over thresholds (Yeom et al. 2018)."""
        return float(np.max(self.tpr - self.fpr))


def roc(scores: np.ndarray, is_member: np.ndarray) -> RocCurve:
    fpr, tpr, _ = skm.roc_curve(is_member, scores)
    return RocCurve(fpr, tpr, float(skm.roc_auc_score(is_member, scores)))


def chance_band(members: int, non_members: int, *, level: float = 0.95) -> tuple[float, float]:
    """The AUC range a coin-flip attack lands in with probability `level` on this many records.

    An AUC inside it is indistinguishable from guessing at this sample size. Normal approximation
    to the Mann-Whitney U statistic (AUC = U / (n1 n2)) when members and non-members look alike:
    sd = sqrt((n1 + n2 + 1) / (12 n1 n2)), 0.029 at 200 + 200 records.
    """
    if members < 1 or non_members < 1:
        raise ValueError(f"need at least one member and one non-member, got {members} and {non_members}")
    sd = math.sqrt((members + non_members + 1) / (12 * members * non_members))
    z = stats.norm.ppf(0.5 + level / 2)
    return 0.5 - z * sd, 0.5 + z * sd


@dataclass(frozen=True)
class AttackMetrics:
    accuracy: float  # at the attack's own decision rule (score >= 0.5)
    precision: float
    recall: float
    f1: float
    auc: float
    advantage: float
    tpr_at_fpr: dict[str, float]  # keyed "0.01", "0.001"
    members: int
    non_members: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def evaluate(scores: np.ndarray, is_member: np.ndarray, *, threshold: float = 0.5) -> tuple[AttackMetrics, RocCurve]:
    is_member = np.asarray(is_member, dtype=bool)
    predicted = np.asarray(scores) >= threshold
    curve = roc(scores, is_member)
    m = AttackMetrics(
        accuracy=float(skm.accuracy_score(is_member, predicted)),
        precision=float(skm.precision_score(is_member, predicted, zero_division=0)),
        recall=float(skm.recall_score(is_member, predicted, zero_division=0)),
        f1=float(skm.f1_score(is_member, predicted, zero_division=0)),
        auc=curve.auc,
        advantage=curve.advantage,
        tpr_at_fpr={str(f): curve.tpr_at_fpr(f) for f in LOW_FPRS},
        members=int(is_member.sum()),
        non_members=int((~is_member).sum()),
    )
    return m, curve
