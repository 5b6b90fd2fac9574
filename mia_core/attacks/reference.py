"""Shared machinery of attacks that calibrate per example with reference models (LiRA, RMIA).

A subclass defines `raw(...)`: a membership statistic for target outputs, given reference
models' outputs on the same records. `fit` turns that statistic into a member probability
by treating each reference model in turn as a pretend target whose membership is known
(the others serve as its references) and fitting a logistic calibration to those pairs.
"""

from abc import abstractmethod

import numpy as np
from sklearn.linear_model import LogisticRegression

from .base import MembershipAttack, ReferenceData, ReferenceQuery

CLIP = 50.0  # raw statistics are clipped to +-CLIP before calibration, so no infinity reaches sklearn


class ReferenceAttack(MembershipAttack):
    needs = "references"

    @abstractmethod
    def raw(self, logits: np.ndarray, labels: np.ndarray, ref_logits: np.ndarray, ref_keep: np.ndarray,
            target_population_logits: np.ndarray, ref_population_logits: np.ndarray,
            population_labels: np.ndarray) -> np.ndarray:
        """Higher means member. logits [N, C]; ref_logits [R, N, C]; ref_keep [R, N];
        target_population_logits [Z, C]; ref_population_logits [R, Z, C]."""

    def _prepare(self, data: ReferenceData) -> None:
        """Optional: global statistics a subclass learns from all reference models."""

    def fit(self, data: ReferenceData) -> "ReferenceAttack":
        self.population_logits_, self.population_labels_ = data.population_logits, data.population_labels
        self._prepare(data)
        stats, member = [], []
        models = np.arange(len(data.keep))
        for j in models:  # reference j plays the target; the others are its references
            others = models != j
            stats.append(self.raw(data.logits[j], data.labels, data.logits[others], data.keep[others],
                                  data.population_logits[j], data.population_logits[others], data.population_labels))
            member.append(data.keep[j])
        x = np.clip(np.concatenate(stats), -CLIP, CLIP)[:, None]
        self.calibrator_ = LogisticRegression(C=1e4).fit(x, np.concatenate(member))
        return self

    def score(self, logits: np.ndarray, labels: np.ndarray, reference: ReferenceQuery | None = None) -> np.ndarray:
        if reference is None:
            raise ValueError(f"{self.name} needs the reference models' outputs on the queried records")
        stat = self.raw(logits, labels, reference.logits, reference.keep, reference.target_population_logits,
                        self.population_logits_, self.population_labels_)
        return self.calibrator_.predict_proba(np.clip(stat, -CLIP, CLIP)[:, None])[:, 1]
