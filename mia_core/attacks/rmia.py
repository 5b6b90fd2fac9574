"""RMIA (Zarifzadeh et al. 2024): a likelihood ratio against population samples.

LR(x) = Pr(x | target) / Pr(x), with Pr(x) estimated from reference models that did not
train on x (offline: Pr(x) = ((1 + a) * mean_out + (1 - a)) / 2, correcting for the
missing "in" half). A record's score is the fraction of population samples z that it
beats by a factor gamma: LR(x) / LR(z) > gamma. Strong with 1 to 4 reference models.
"""

import numpy as np

from .reference import ReferenceAttack
from .signals import true_class_probability


class RMIA(ReferenceAttack):
    name = "rmia"

    def __init__(self, *, a: float = 0.3, gamma: float = 1.0):
        self.a, self.gamma = a, gamma

    def _marginal(self, ref_probs: np.ndarray, out_mask: np.ndarray) -> np.ndarray:
        mean_out = (ref_probs * out_mask).sum(axis=0) / np.maximum(out_mask.sum(axis=0), 1)
        return 0.5 * ((1 + self.a) * mean_out + (1 - self.a))

    def raw(self, logits, labels, ref_logits, ref_keep, target_population_logits, ref_population_logits,
            population_labels) -> np.ndarray:
        ref_x = np.stack([true_class_probability(lg, labels) for lg in ref_logits])  # -> [R, N]
        ref_z = np.stack([true_class_probability(lg, population_labels) for lg in ref_population_logits])  # [R, Z]
        ratio_x = true_class_probability(logits, labels) / self._marginal(ref_x, ~ref_keep)
        ratio_z = true_class_probability(target_population_logits, population_labels) / self._marginal(
            ref_z, np.ones_like(ref_z, bool))
        beaten = np.searchsorted(np.sort(ratio_z), ratio_x / self.gamma, side="left")
        frac = beaten / len(ratio_z)  # in [0, 1]
        return np.log(frac + 1e-6) - np.log1p(-frac + 1e-6)  # logit, so calibration sees an unbounded line
