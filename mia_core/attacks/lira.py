"""LiRA (Carlini et al. 2022): a per-example likelihood ratio test on logit-scaled confidence.

For each record, reference models that trained on it ("in") and did not ("out") give two
Gaussians of the statistic log(p_y / (1 - p_y)), each centred on its group's mean (the Gaussian's
maximum-likelihood centre). Online compares the target's value under both; offline only asks how
far above the "out" Gaussian it lies (one-sided).

The fixed variance, as in Carlini's code (`mi_lira_2021/plot.py`), is one spread per side shared by
all records, so it never collapses to 0 with few reference models as a per-record one does. Here it
is the pooled within-record spread: how far each record's "in" values (and, apart, its "out" values)
lie from that record's own mean, over every record. It leaves out how far records lie from each other,
which says nothing about one record's membership. "In" values are tighter than "out" values (a model
that trained on a record is surely right about it; one that did not may or may not be), so the two
Gaussians have different spreads, and online the ratio is quadratic in the confidence.

The fixed spreads are the default, online and offline. On the overfit preset (tanh LeNets, 64 reference models)
each record is in about 6 reference models and out of about 58: models that trained on a record agree closely about
it, and a spread from 6 of them is noisy enough that chance closeness becomes a large ratio. `fixed_variance=False`
gives a record its own spread on a side that holds at least OWN_SPREAD_FROM values, as Carlini et al. suggest once
the models are many.

A record without "in" models (a freshly drawn digit, or few references) borrows the median
in-out shift of the records that have both; a record without "out" models, the same shift the
other way. A borrowed centre is a guess: the spread on that side widens by how much the shift varies
from record to record. Without that, the tight "in" spread of a record nobody trained on would call a
drawing the target is surer of than the guessed centre a non-member.
"""

import numpy as np

from .reference import ReferenceAttack
from .signals import scaled_true_class_confidence

MIN_STD = 1e-3  # a per-record spread from 2 nearly equal values would otherwise be ~0
OWN_SPREAD_FROM = 32  # values on one side (in or out) from which a record may have its own spread there


def masked_mean(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and count of values [R, N] where mask [R, N]; NaN where the count is 0."""
    count = mask.sum(axis=0)
    total = np.where(mask, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan), count


def pooled_spread(values: np.ndarray, mask: np.ndarray) -> float:
    """The within-record standard deviation of values [R, N] where mask, pooled over the records (columns) with
    at least 2 values: each value's distance from its own record's mean."""
    mean, count = masked_mean(values, mask)
    squares = np.where(mask, (values - np.nan_to_num(mean)) ** 2, 0.0).sum(axis=0)
    dof = np.maximum(count - 1, 0)
    return max(float(np.sqrt(squares.sum() / dof.sum())), MIN_STD) if dof.sum() > 0 else 1.0


class LiRA(ReferenceAttack):
    def __init__(self, *, online: bool = True, fixed_variance: bool = True):
        """fixed_variance: one pooled spread per side for every record; False: a record's own spread on a side
        that holds at least `OWN_SPREAD_FROM` values."""
        self.online, self.fixed_variance = online, fixed_variance
        self.name = "lira_online" if online else "lira_offline"

    def signal(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return scaled_true_class_confidence(logits, labels)

    def _prepare(self, signals: np.ndarray, keep: np.ndarray) -> None:
        self.in_std_ = pooled_spread(signals, keep)
        self.out_std_ = pooled_spread(signals, ~keep)
        mu_in, n_in = masked_mean(signals, keep)
        mu_out, n_out = masked_mean(signals, ~keep)
        both = (n_in > 0) & (n_out > 0)
        if not both.any():
            raise ValueError("LiRA needs records that some reference models trained on and others did not")
        self.in_shift_ = float(np.median(mu_in[both] - mu_out[both]))
        self.shift_spread_ = float(np.std(mu_in[both] - mu_out[both]))  # how far a borrowed centre may be off

    def _spread(self, values: np.ndarray, mask: np.ndarray, fixed: float) -> np.ndarray:
        if self.fixed_variance:
            return np.full(values.shape[1], fixed)
        mean, count = masked_mean(values, mask)
        sd = np.sqrt(np.where(mask, (values - np.nan_to_num(mean)) ** 2, 0.0).sum(axis=0) / np.maximum(count - 1, 1))
        return np.where(count >= OWN_SPREAD_FROM, np.maximum(sd, MIN_STD), fixed)

    def gaussians(self, ref_conf: np.ndarray, ref_keep: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The per-record Gaussians LiRA compares with, from the reference models' statistic ref_conf [R, N] and
        keep [R, N]: centres and spreads of "in" and "out", each [N]."""
        mu_in, n_in = masked_mean(ref_conf, ref_keep)
        mu_out, n_out = masked_mean(ref_conf, ~ref_keep)
        mu_out = np.where(n_out == 0, mu_in - self.in_shift_, mu_out)
        mu_in = np.where(n_in == 0, mu_out + self.in_shift_, mu_in)
        sd_out = self._spread(ref_conf, ~ref_keep, self.out_std_)
        sd_out = np.where(n_out == 0, np.hypot(sd_out, self.shift_spread_), sd_out)
        sd_in = self._spread(ref_conf, ref_keep, self.in_std_)
        sd_in = np.where(n_in == 0, np.hypot(sd_in, self.shift_spread_), sd_in)
        return mu_in, sd_in, mu_out, sd_out

    def compare(self, x, ref_x, ref_keep, z, ref_z) -> np.ndarray:
        """x [N]: the target's logit-scaled confidence; the population samples (z) play no part."""
        from scipy.stats import norm

        mu_in, sd_in, mu_out, sd_out = self.gaussians(ref_x, ref_keep)
        if not self.online:
            return norm.logcdf(x, mu_out, sd_out)  # one-sided: how unusually high for a non-member
        return norm.logpdf(x, mu_in, sd_in) - norm.logpdf(x, mu_out, sd_out)
