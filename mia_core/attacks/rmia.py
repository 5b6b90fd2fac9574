"""RMIA (Zarifzadeh et al. 2024): a likelihood ratio against population samples.

LR(x) = Pr(x | target) / Pr(x), where Pr(x), the probability of x's label averaged over models
that did and did not train on x, comes from the reference models:
- online, when x has "in" and "out" references: the mean of the two groups' averages;
- offline, with "out" references only (a drawn digit, the population samples):
  Pr(x) = ((1 + a) * P_out(x) + (1 - a)) / 2, the paper's approximation of the missing "in" half
  by P_in = a * P_out + (1 - a);
- with "in" references only (few references): the same relation solved for P_out.
`a` is not fixed at 0.3: `_prepare` fits it by least squares to the records that have both.
A record's statistic is the fraction of population samples z that it beats by a factor
gamma, LR(x) / LR(z) > gamma. Strong with 1 to 4 reference models.
"""

import numpy as np

from .reference import ReferenceAttack
from .signals import true_class_probability

A_RANGE = (0.05, 1.0)  # a = 1 says P_in = P_out (training changes nothing); a -> 0 says members are always right


def _group_means(probs: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    count = mask.sum(axis=0)
    return (probs * mask).sum(axis=0) / np.maximum(count, 1), count


class RMIA(ReferenceAttack):
    name = "rmia"

    def __init__(self, *, gamma: float = 1.0):
        self.gamma = gamma

    def signal(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return true_class_probability(logits, labels)

    def _prepare(self, signals: np.ndarray, keep: np.ndarray) -> None:
        p_in, n_in = _group_means(signals, keep)
        p_out, n_out = _group_means(signals, ~keep)
        both = (n_in > 0) & (n_out > 0)
        if not both.any():
            raise ValueError("RMIA needs records that some reference models trained on and others did not")
        u, v = p_out[both] - 1, p_in[both] - 1  # the fit P_in - 1 = a (P_out - 1), through (1, 1)
        a = float((u * v).sum() / (u * u).sum()) if (u * u).sum() > 0 else 1.0
        self.a_ = float(np.clip(a, *A_RANGE))

    def marginal(self, probs: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Pr(x) per column of probs [R, N] from models that did (keep) and did not train on each record."""
        p_in, n_in = _group_means(probs, keep)
        p_out, n_out = _group_means(probs, ~keep)
        offline = 0.5 * ((1 + self.a_) * p_out + (1 - self.a_))
        p_out_from_in = np.clip(1 - (1 - p_in) / self.a_, 0, 1)
        both = np.where(n_out == 0, 0.5 * (p_in + p_out_from_in), 0.5 * (p_in + p_out))
        return np.maximum(np.where(n_in == 0, offline, both), 1e-300)  # a probability can underflow to 0

    def compare(self, x, ref_x, ref_keep, z, ref_z) -> np.ndarray:
        ratio_x = x / self.marginal(ref_x, ref_keep)  # x, z: the target's probability of the true class
        ratio_z = z / self.marginal(ref_z, np.zeros_like(ref_z, bool))
        beaten = np.searchsorted(np.sort(ratio_z), ratio_x / self.gamma, side="left")
        return beaten / len(ratio_z)  # -> [N], the fraction of the population x beats
