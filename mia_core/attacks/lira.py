"""LiRA (Carlini et al. 2022): a per-example likelihood ratio test on logit-scaled confidence.

For each record, reference models that trained on it ("in") and did not ("out") give two
Gaussians of the statistic log(p_y / (1 - p_y)). Online compares the target's value under
both; offline only asks how far above the "out" Gaussian it lies. With few reference models
a fixed (global) variance is steadier than per-example ones.
"""

import numpy as np
from scipy.stats import norm

from .base import ReferenceData
from .reference import ReferenceAttack
from .signals import scaled_true_class_confidence

MIN_STD = 1e-3


def _masked_mean_std(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-column mean, std and count of values [R, N] where mask [R, N]."""
    count = mask.sum(axis=0)
    safe = np.maximum(count, 1)
    mean = (values * mask).sum(axis=0) / safe
    var = (((values - mean) ** 2) * mask).sum(axis=0) / safe
    return mean, np.sqrt(var), count


class LiRA(ReferenceAttack):
    def __init__(self, *, online: bool = True, fixed_variance: bool = True):
        self.online, self.fixed_variance = online, fixed_variance
        self.name = "lira_online" if online else "lira_offline"

    def _prepare(self, data: ReferenceData) -> None:
        conf = np.stack([scaled_true_class_confidence(lg, data.labels) for lg in data.logits])  # -> [R, P]
        mu_in, sd_in, _ = _masked_mean_std(conf, data.keep)
        mu_out, sd_out, _ = _masked_mean_std(conf, ~data.keep)
        self.global_in_std_ = float(np.sqrt(np.mean(sd_in ** 2)))
        self.global_out_std_ = float(np.sqrt(np.mean(sd_out ** 2)))
        self.in_shift_ = float(np.mean(mu_in - mu_out))  # used for a record no reference trained on

    def raw(self, logits, labels, ref_logits, ref_keep, target_population_logits, ref_population_logits,
            population_labels) -> np.ndarray:
        conf = scaled_true_class_confidence(logits, labels)  # -> [N]
        ref_conf = np.stack([scaled_true_class_confidence(lg, labels) for lg in ref_logits])  # -> [R, N]
        mu_out, sd_out, n_out = _masked_mean_std(ref_conf, ~ref_keep)
        if self.fixed_variance:
            sd_out = np.full_like(mu_out, self.global_out_std_)
        sd_out = np.maximum(sd_out, MIN_STD)
        if not self.online:
            return norm.logcdf(conf, mu_out, sd_out)  # one-sided: how unusually high for a non-member
        mu_in, sd_in, n_in = _masked_mean_std(ref_conf, ref_keep)
        unseen = n_in == 0  # e.g. a freshly drawn digit: borrow the average in-out shift
        mu_in = np.where(unseen, mu_out + self.in_shift_, mu_in)
        if self.fixed_variance:
            sd_in = np.full_like(mu_in, self.global_in_std_)
        sd_in = np.maximum(np.where(unseen, self.global_in_std_, sd_in), MIN_STD)
        return norm.logpdf(conf, mu_in, sd_in) - norm.logpdf(conf, mu_out, sd_out)
