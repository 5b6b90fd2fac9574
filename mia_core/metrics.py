"""Attack metrics with bootstrap 95% intervals: sklearn.metrics for the figures, scipy for the intervals.

- ROC figures (AUC, TPR at a low FPR, attacker advantage) come from an attack's statistic: its
  ranking is the attack's. ROC figures need no balance between members and non-members.
- Accuracy, precision, recall and F1 come from the attack's decision rule (member probability
  >= 0.5) at a 50% member prior: members and non-members weigh half each, whatever their counts.
- A TPR at FPR f is a number only where the non-members resolve it: at least RESOLUTION / f of
  them (1,000 for 1% FPR), and, where their scores tie, a threshold that reaches at least half of f
  (a statistic with few values, such as label-only's share of copies, can jump from 0 to half of the
  non-members at once). Elsewhere it is None, with the reason.
- Intervals: percentile bootstrap, members and non-members resampled separately.
"""

import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import stats
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


def tie_note(fpr: float, non_member_statistic: np.ndarray) -> str | None:
    """Why ties keep a TPR at `fpr` from being reported, or None if a threshold reaches at least half of it.

    A threshold flags every non-member scoring at or above it, so with tied scores the FPRs it can reach jump
    from one tie group to the next."""
    values, counts = np.unique(np.asarray(non_member_statistic), return_counts=True)
    reachable = np.r_[0, np.cumsum(counts[::-1])] / len(non_member_statistic)  # FPR at each threshold, highest first
    below = reachable[reachable <= fpr + 1e-12].max()
    if below >= fpr / 2:
        return None
    above = reachable[reachable > fpr + 1e-12].min()
    return (f"TPR at {fpr:.1%} FPR cannot be resolved: tied scores let a threshold flag {below:.1%} of the "
            f"non-members, or {above:.1%}, and nothing between")


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


def advantage_chance_band(members: int, non_members: int, *, level: float = CONFIDENCE,
                          attacks: int = 1) -> tuple[float, float]:
    """The advantage range a coin-flip attack lands in with probability `level` on this many records; with
    `attacks` > 1, the range the best of that many coin flips stays in (Bonferroni: each at 1 - (1 - level) / k).

    Advantage, max(TPR - FPR) over thresholds, is the one-sided two-sample Kolmogorov-Smirnov statistic of the
    non-members' scores against the members': never below 0, and positive by chance. Its null distribution is
    scipy.stats.ks_2samp's (exact where scipy can compute it), about 1.224 sqrt((n1 + n0) / (n1 n0)) at 95%.
    Ties in the scores only make a coin flip's advantage smaller, so the band stays conservative.
    """
    if members < 1 or non_members < 1:
        raise ValueError(f"need at least one member and one non-member, got {members} and {non_members}")
    if attacks < 1:
        raise ValueError(f"the best of at least 1 attack, got {attacks}")
    return 0.0, _ks_critical(members, non_members, 1 - (1 - level) / attacks)


def tpr_chance_band(members: int, non_members: int, fpr: float, *, level: float = CONFIDENCE,
                    attacks: int = 1) -> tuple[float, float] | None:
    """The TPR at `fpr` a coin-flip attack stays within with probability `level` on this many records (with
    `attacks` > 1, the best of that many, Bonferroni-corrected); None where the non-members cannot resolve `fpr`.

    The TPR at `fpr` counts the members above the (k+1)-th highest non-member, k = the false positives `fpr`
    allows (`batch_tpr_at_fpr`). When members and non-members look alike, every order of the records is as likely,
    and that count is negative hypergeometric: the members drawn before the (k+1)-th non-member. Exact, not
    simulated. About 0.03 for one attack at 1% FPR on 100 + 1,000 records.
    """
    if members < 1 or non_members < 1:
        raise ValueError(f"need at least one member and one non-member, got {members} and {non_members}")
    if resolution_note(fpr, non_members) is not None:
        return None
    k = math.floor(fpr * non_members + 1e-9)
    count = stats.nhypergeom(members + non_members, members, k + 1).ppf(1 - (1 - level) / attacks)
    return 0.0, float(count) / members


@lru_cache(maxsize=64)
def _ks_critical(members: int, non_members: int, level: float) -> float:
    """The smallest one-sided two-sample KS statistic with a p-value of at most 1 - `level` for these counts.

    scipy gives the statistic's p-value for two samples; samples built to realise a chosen statistic (evenly
    spread non-members, and members as evenly spread but shifted up by `shift`) read its distribution off it,
    and a bisection on the shift finds the critical value."""
    non = (np.arange(non_members) + 0.5) / non_members

    def test(shift: float):
        mem = (np.arange(members) + 0.5) / members + shift
        with warnings.catch_warnings():  # scipy falls back to its asymptotic formula where exact counting fails
            warnings.simplefilter("ignore", RuntimeWarning)
            return stats.ks_2samp(non, mem, alternative="greater")

    low, high = 0.0, 1.0 + 1.0 / min(members, non_members)
    for _ in range(20):
        mid = (low + high) / 2
        low, high = (low, mid) if test(mid).pvalue <= 1 - level else (mid, high)
    return float(test(high).statistic)


# Vectorised forms for the bootstrap. A resample draws each record some number of times, so AUC and advantage
# follow from those counts at each distinct statistic value, sorted once (`TiedCounts`), with no sort per
# resample. tests/test_metrics.py checks each form against sklearn.

class TiedCounts:
    """The records' statistics sorted once, ties grouped: a resample's members and non-members at each distinct
    value, in ascending order, from the positions it drew."""

    def __init__(self, members: np.ndarray, non_members: np.ndarray):  # statistics [n1], [n0]
        self.n1, self.n0 = len(members), len(non_members)
        values = np.concatenate([members, non_members])
        self.order = np.argsort(values, kind="stable")
        ranked = values[self.order]
        self.starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])  # where each distinct value begins

    def counts(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drawn positions i [..., n1] of the members and j [..., n0] of the non-members -> how many members and
        non-members each distinct value holds in each resample: two arrays [..., distinct values]."""
        drawn_members, drawn_non = _draws(i, self.n1), _draws(j, self.n0)
        members = np.concatenate([drawn_members, np.zeros_like(drawn_non)], axis=-1)[..., self.order]
        non_members = np.concatenate([np.zeros_like(drawn_members), drawn_non], axis=-1)[..., self.order]
        return (np.add.reduceat(members, self.starts, axis=-1), np.add.reduceat(non_members, self.starts, axis=-1))


def _draws(positions: np.ndarray, n: int) -> np.ndarray:
    """positions [..., m] in 0..n-1 -> how often each of the n was drawn [..., n]."""
    rows = positions.reshape(-1, positions.shape[-1])
    flat = (rows + n * np.arange(len(rows))[:, None]).ravel()
    return np.bincount(flat, minlength=len(rows) * n).reshape(*positions.shape[:-1], n)


def counted_auc(members: np.ndarray, non_members: np.ndarray) -> np.ndarray:
    """Mann-Whitney from counts at each distinct value [..., G], ascending: the share of (member, non-member)
    pairs the member wins, ties counting half."""
    below = np.cumsum(non_members, -1) - non_members  # non-members strictly below each value
    return (members * (below + 0.5 * non_members)).sum(-1) / (members.sum(-1) * non_members.sum(-1))


def counted_advantage(members: np.ndarray, non_members: np.ndarray) -> np.ndarray:
    """max(TPR - FPR) over every threshold, and 0 for "nobody is a member", from counts [..., G], ascending."""
    tpr = np.cumsum(members[..., ::-1], -1) / members.sum(-1, keepdims=True)  # at or above each value
    fpr = np.cumsum(non_members[..., ::-1], -1) / non_members.sum(-1, keepdims=True)
    return np.maximum((tpr - fpr).max(-1), 0.0)


def batch_tpr_at_fpr(x: np.ndarray, y: np.ndarray, fpr: float) -> np.ndarray:
    """Members above the (k+1)-th highest non-member, k = the false positives `fpr` allows."""
    k = math.floor(fpr * y.shape[-1] + 1e-9)
    if k >= y.shape[-1]:
        return np.ones(x.shape[:-1])
    cut = -np.partition(-y, k, axis=-1)[..., k]  # the (k+1)-th highest
    return (x > cut[..., None]).mean(-1)


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

    @classmethod
    def from_dict(cls, d: dict) -> "AttackMetrics":
        """The figures `to_dict` wrote (a run's or a plant job's JSON)."""
        return cls(**{k: ({f: None if v is None else tuple(v) for f, v in value.items()} if isinstance(value, dict)
                          else tuple(value)) if k.endswith("_ci") else value for k, value in d.items()})


def evaluate(statistic: np.ndarray, probability: np.ndarray, is_member: np.ndarray, *,
             seed: int = 0, resamples: int = RESAMPLES) -> tuple[AttackMetrics, RocCurve]:
    """Every figure of one attack on held-out records, each with its bootstrap interval."""
    statistic = np.asarray(statistic, dtype=np.float64)
    is_member = np.asarray(is_member, dtype=bool)
    decided = np.asarray(probability) >= 0.5
    curve = roc(statistic, is_member)
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    x, y = statistic[is_member], statistic[~is_member]
    notes = {str(f): note for f in LOW_FPRS if (note := resolution_note(f, n0) or tie_note(f, y))}
    resolved = [f for f in LOW_FPRS if str(f) not in notes]
    px, py = decided[is_member], decided[~is_member]
    tied = TiedCounts(x, y)

    def figures(i, j, axis=-1):  # i [..., n1], j [..., n0]: resampled positions -> [4 + len(resolved), ...]
        members, non_members = tied.counts(i, j)
        return np.stack([counted_auc(members, non_members), counted_advantage(members, non_members),
                         batch_accuracy(px[i], py[j]), *(batch_tpr_at_fpr(x[i], y[j], f) for f in resolved)])

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


def most_exposed(scores: np.ndarray, is_member: np.ndarray, k: int = 10) -> np.ndarray:
    """Positions of the k members an attack is surest about, highest score first (statistic or
    probability: the probability is a monotone map of the statistic, so the order is the same)."""
    members = np.flatnonzero(is_member)
    return members[np.argsort(-scores[members], kind="stable")[:k]]
