"""A member probability from a membership statistic, without ever reordering the records.

Every attack computes a statistic whose direction is fixed by construction (higher = member);
the ROC figures come from that statistic. The probability is for display and for the attack's
decision rule (probability >= 0.5), so its map must be strictly increasing: a calibration that
could learn a negative slope (and flip the ranking) or a zero slope (and flatten it) would make
the probability say something the statistic does not.

    probability = sigmoid(slope * (statistic - center) / scale + intercept),
    MIN_SLOPE <= slope <= MAX_SLOPE

fitted by maximum likelihood on records of known membership (shadow or reference models' own),
members and non-members weighted equally: the probability is the one at a 50% member prior.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

# On the standardised statistic. MIN_SLOPE keeps a signal-free fit strictly increasing and its
# probabilities visibly ordered (0.5 +- 0.0025 per standard unit) instead of a flat 0.5.
MIN_SLOPE = 0.01
# MAX_SLOPE keeps |log-odds| below about 36 within 4 standard units, where float64 sigmoid still
# tells neighbours apart (sigmoid saturates to exactly 1.0 near log-odds 37).
MAX_SLOPE = 8.0


def standardise(statistic: np.ndarray) -> tuple[float, float]:
    """A robust centre and scale (median and IQR / 1.349, else the standard deviation, else 1)."""
    s = np.asarray(statistic, dtype=np.float64)
    center = float(np.median(s))
    q1, q3 = np.percentile(s, [25, 75])
    for scale in ((q3 - q1) / 1.349, float(np.std(s))):
        if np.isfinite(scale) and scale > 0:
            return center, float(scale)
    return center, 1.0


@dataclass
class MonotoneCalibration:
    """scikit-learn style: `fit(statistic, member)` returns self; fitted attributes end in `_`."""

    def fit(self, statistic: np.ndarray, member: np.ndarray) -> "MonotoneCalibration":
        from scipy.optimize import minimize

        s = _finite(statistic)
        y = np.asarray(member, dtype=np.float64)
        if s.shape != y.shape or not 0 < y.sum() < len(y):
            raise ValueError("calibration needs one statistic per record and both members and non-members")
        self.center_, self.scale_ = standardise(s)
        z = (s - self.center_) / self.scale_
        sign = 2 * y - 1  # +1 member, -1 non-member
        weight = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean())) / len(y)  # each class half the weight

        def loss(params):  # weighted negative log-likelihood and its gradient
            slope, intercept = params
            margin = sign * (slope * z + intercept)
            grad = -weight * sign * expit(-margin)  # d/dmargin of log(1 + exp(-margin)) is -sigmoid(-margin)
            return (weight * np.logaddexp(0, -margin)).sum(), np.array([(grad * z).sum(), grad.sum()])

        fit = minimize(loss, x0=[1.0, 0.0], jac=True, method="L-BFGS-B",
                       bounds=[(MIN_SLOPE, MAX_SLOPE), (None, None)])
        self.slope_, self.intercept_ = (float(v) for v in fit.x)
        return self

    def log_odds(self, statistic: np.ndarray) -> np.ndarray:
        return self.slope_ * (_finite(statistic) - self.center_) / self.scale_ + self.intercept_

    def probability(self, statistic: np.ndarray) -> np.ndarray:
        return expit(self.log_odds(statistic))

    @property
    def threshold_(self) -> float:
        """The statistic at which the member probability is 0.5: the attack's decision threshold."""
        return self.center_ - self.intercept_ / self.slope_ * self.scale_


def _finite(statistic: np.ndarray) -> np.ndarray:
    """+-inf become the largest finite floats: order kept, arithmetic safe. NaN is a bug upstream."""
    s = np.asarray(statistic, dtype=np.float64)
    if np.isnan(s).any():
        raise ValueError("a membership statistic is NaN")
    return np.nan_to_num(s, posinf=np.finfo(np.float64).max / 4, neginf=-np.finfo(np.float64).max / 4)
