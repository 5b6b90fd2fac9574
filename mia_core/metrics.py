"""Attack metrics with bootstrap 95% intervals: sklearn.metrics for the figures, scipy for the intervals.

- ROC figures (AUC, TPR at a low FPR, attacker advantage) come from an attack's statistic: its
  ranking is the attack's. ROC figures need no balance between members and non-members.
- Accuracy, precision, recall and F1 come from the attack's decision rule (member probability
  >= 0.5) at a 50% member prior: members and non-members weigh half each, whatever their counts.
- A TPR at FPR f is a number only where the non-members resolve it: at least RESOLUTION / f of
  them (1,000 for 1% FPR). Elsewhere it is None, with the count it needs.
- Intervals: percentile bootstrap, members and non-members resampled separately.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.stats import rankdata
from sklearn import metrics as skm

LOW_FPRS = (0.01, 0.001)
RESOLUTION = 10  # false positives a TPR at a given FPR must rest on
CONFIDENCE = 0.95
RESAMPLES = 1000
PRIOR = 0.5  # the member prior of accuracy and precision


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


def roc(statistic: np.ndarray, is_member: np.ndarray) -> RocCurve:
    fpr, tpr, _ = skm.roc_curve(is_member, statistic)
    return RocCurve(fpr, tpr, float(skm.roc_auc_score(is_member, statistic)))


def needed_non_members(fpr: float) -> int:
    return math.ceil(RESOLUTION / fpr - 1e-9)


def resolution_note(fpr: float, non_members: int) -> str | None:
    """Why a TPR at `fpr` cannot be reported on `non_members` non-members, or None if it can."""
    need = needed_non_members(fpr)
    if non_members >= need:
        return None
    return (f"TPR at {fpr:.1%} FPR needs at least {need:,} non-members ({RESOLUTION} false positives); "
            f"this evaluation has {non_members:,}")


def chance_band(members: int, non_members: int, *, level: float = CONFIDENCE) -> tuple[float, float]:
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


# Vectorised forms for the bootstrap: members' statistics x [..., n1], non-members' y [..., n0].
# tests/test_metrics.py checks each against sklearn.

def batch_auc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mann-Whitney: the share of (member, non-member) pairs the member wins, ties counting half."""
    n1, n0 = x.shape[-1], y.shape[-1]
    ranks = rankdata(np.concatenate([x, y], axis=-1), axis=-1)  # average ranks for ties
    return (ranks[..., :n1].sum(-1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def batch_tpr_at_fpr(x: np.ndarray, y: np.ndarray, fpr: float) -> np.ndarray:
    """Members above the (k+1)-th highest non-member, k = the false positives `fpr` allows."""
    k = math.floor(fpr * y.shape[-1] + 1e-9)
    if k >= y.shape[-1]:
        return np.ones(x.shape[:-1])
    cut = -np.partition(-y, k, axis=-1)[..., k]  # the (k+1)-th highest
    return (x > cut[..., None]).mean(-1)


def batch_advantage(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """max(TPR - FPR) over every threshold, and 0 for "nobody is a member"."""
    n1, n0 = x.shape[-1], y.shape[-1]
    scores = np.concatenate([x, y], axis=-1)
    order = np.argsort(-scores, axis=-1, kind="stable")
    is_member = np.concatenate([np.ones(n1, bool), np.zeros(n0, bool)])[order]
    ranked = np.take_along_axis(scores, order, axis=-1)
    gap = np.cumsum(is_member, -1) / n1 - np.cumsum(~is_member, -1) / n0
    last_of_tie = np.concatenate([ranked[..., 1:] != ranked[..., :-1], np.ones(ranked.shape[:-1] + (1,), bool)], -1)
    return np.maximum(np.where(last_of_tie, gap, -np.inf).max(-1), 0.0)


def batch_accuracy(px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Accuracy at a 50% prior of decisions px (members) and py (non-members): (TPR + TNR) / 2."""
    return (px.mean(-1) + (~py).mean(-1)) / 2


Interval = tuple[float, float]


@dataclass(frozen=True)
class AttackMetrics:
    auc: float
    auc_ci: Interval
    advantage: float
    advantage_ci: Interval
    accuracy: float  # at the decision rule, 50% prior: (TPR + TNR) / 2
    accuracy_ci: Interval
    precision: float  # at the decision rule, 50% prior: TPR / (TPR + FPR)
    recall: float
    f1: float
    tpr_at_fpr: dict[str, float | None]  # keyed "0.01", "0.001"; None where the non-members cannot resolve it
    tpr_at_fpr_ci: dict[str, Interval | None]
    members: int
    non_members: int
    tpr_at_fpr_note: dict[str, str] = field(default_factory=dict)  # why a TPR is None
    prior: float = PRIOR

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        for key, value in out.items():
            if key.endswith("_ci"):
                out[key] = ({k: None if v is None else list(v) for k, v in value.items()} if isinstance(value, dict)
                            else list(value))
        return out


def evaluate(statistic: np.ndarray, probability: np.ndarray, is_member: np.ndarray, *,
             seed: int = 0, resamples: int = RESAMPLES) -> tuple[AttackMetrics, RocCurve]:
    """Every figure of one attack on held-out records, each with its bootstrap interval."""
    statistic = np.asarray(statistic, dtype=np.float64)
    is_member = np.asarray(is_member, dtype=bool)
    decided = np.asarray(probability) >= 0.5
    curve = roc(statistic, is_member)
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    notes = {str(f): note for f in LOW_FPRS if (note := resolution_note(f, n0))}
    resolved = [f for f in LOW_FPRS if str(f) not in notes]
    x, y = statistic[is_member], statistic[~is_member]
    px, py = decided[is_member], decided[~is_member]

    def figures(i, j, axis=-1):  # i [..., n1], j [..., n0]: resampled positions -> [4 + len(resolved), ...]
        return np.stack([batch_auc(x[i], y[j]), batch_advantage(x[i], y[j]), batch_accuracy(px[i], py[j]),
                         *(batch_tpr_at_fpr(x[i], y[j], f) for f in resolved)])

    boot = stats.bootstrap((np.arange(n1), np.arange(n0)), figures, vectorized=True, paired=False,
                           n_resamples=resamples, confidence_level=CONFIDENCE, method="percentile",
                           rng=np.random.default_rng([seed, 9]))
    low, high = boot.confidence_interval
    ci = [(float(a), float(b)) for a, b in zip(low, high)]
    tpr, fpr = px.mean(), py.mean()
    precision = float(tpr / (tpr + fpr)) if tpr + fpr > 0 else 0.0
    m = AttackMetrics(
        auc=curve.auc, auc_ci=ci[0], advantage=curve.advantage, advantage_ci=ci[1],
        accuracy=float(skm.balanced_accuracy_score(is_member, decided)), accuracy_ci=ci[2],
        precision=precision, recall=float(tpr),
        f1=float(2 * precision * tpr / (precision + tpr)) if precision + tpr > 0 else 0.0,
        tpr_at_fpr={str(f): (curve.tpr_at_fpr(f) if str(f) not in notes else None) for f in LOW_FPRS},
        tpr_at_fpr_ci={str(f): (ci[3 + resolved.index(f)] if f in resolved else None) for f in LOW_FPRS},
        members=n1, non_members=n0, tpr_at_fpr_note=notes)
    return m, curve
