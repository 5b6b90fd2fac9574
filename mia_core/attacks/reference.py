"""Shared machinery of attacks that calibrate per example with reference models (LiRA, RMIA).

A subclass defines `raw(...)`: a membership statistic for target outputs (higher = member),
given reference models' outputs on the same records. `fit` learns the map from that statistic
to a member probability by treating each reference model in turn as a pretend target whose
membership is known (the others serve as its references), with a monotone calibration: the
probability never reorders what the statistic says.

With few reference models, a record can have no "out" (or no "in") model among the others: with
2 references the only other model is the pretend target's complement. `raw` then estimates the
missing side from the side it has, with the relation between the two that `_prepare` learns from
all records that have both (as privacy_meter derives P_out from P_in with one reference model).
"""

from abc import abstractmethod

import numpy as np

from .base import MembershipAttack, ReferenceData, ReferenceQuery
from .calibration import MonotoneCalibration


class ReferenceAttack(MembershipAttack):
    needs = "references"

    @abstractmethod
    def raw(self, logits: np.ndarray, labels: np.ndarray, ref_logits: np.ndarray, ref_keep: np.ndarray,
            target_population_logits: np.ndarray, ref_population_logits: np.ndarray,
            population_labels: np.ndarray) -> np.ndarray:
        """Higher means member. logits [N, C]; ref_logits [R, N, C]; ref_keep [R, N];
        target_population_logits [Z, C]; ref_population_logits [R, Z, C]."""

    @abstractmethod
    def _prepare(self, data: ReferenceData) -> None:
        """Global statistics learnt from all reference models: spreads, the in-out relation."""

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
        stats, member = np.concatenate(stats), np.concatenate(member)
        self.calibrator_ = MonotoneCalibration().fit(stats, member)
        self.null_statistic_ = stats[~member]  # each reference model's records it did not train on
        return self

    def statistic(self, logits: np.ndarray, labels: np.ndarray, reference: ReferenceQuery | None = None,
                  label_answers=None) -> np.ndarray:
        if reference is None:
            raise ValueError(f"{self.name} needs the reference models' outputs on the queried records")
        return self.raw(logits, labels, reference.logits, reference.keep, reference.target_population_logits,
                        self.population_logits_, self.population_labels_)
