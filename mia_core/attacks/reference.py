"""Shared machinery of attacks that calibrate per example with reference models (LiRA, RMIA).

A subclass defines `signal(...)`, the per-record value read off one model's outputs, and `compare(...)`: a
membership statistic from the target's signals (higher = member), given reference models' signals on the same
records; `raw(...)` is the two together on outputs. `fit` learns the map from that statistic to a member
probability by treating each reference model in turn as a pretend target whose membership is known (the others
serve as its references), with a monotone calibration: the probability never reorders what the statistic says.
Each reference model's signals are read once per fit.

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
    def signal(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """The per-record value the attack reads off a model's outputs: logits [..., N, C] (one model's, or
        [R, N, C] many models' on the same records), labels [N] -> [..., N]."""

    @abstractmethod
    def compare(self, x: np.ndarray, ref_x: np.ndarray, ref_keep: np.ndarray, z: np.ndarray,
                ref_z: np.ndarray) -> np.ndarray:
        """Higher means member. The target's signal x [N] on the records, the reference models' ref_x [R, N] and
        ref_keep [R, N]; the target's signal z [Z] on the population samples, the reference models' ref_z [R, Z]."""

    @abstractmethod
    def _prepare(self, signals: np.ndarray, keep: np.ndarray) -> None:
        """Global statistics learnt from all reference models' signals [R, P] and keep [R, P]: spreads, the in-out
        relation."""

    def raw(self, logits: np.ndarray, labels: np.ndarray, ref_logits: np.ndarray, ref_keep: np.ndarray,
            target_population_logits: np.ndarray, ref_population_logits: np.ndarray,
            population_labels: np.ndarray) -> np.ndarray:
        """Higher means member. logits [N, C]; ref_logits [R, N, C]; ref_keep [R, N];
        target_population_logits [Z, C]; ref_population_logits [R, Z, C]."""
        return self.compare(self.signal(logits, labels), self.signal(ref_logits, labels), ref_keep,
                            self.signal(target_population_logits, population_labels),
                            self.signal(ref_population_logits, population_labels))

    def fit(self, data: ReferenceData) -> "ReferenceAttack":
        self.population_logits_, self.population_labels_ = data.population_logits, data.population_labels
        x = self.signal(data.logits, data.labels)  # -> [R, P], each model's signals read once
        z = self.signal(data.population_logits, data.population_labels)  # -> [R, Z]
        self._prepare(x, data.keep)
        stats, member = [], []
        models = np.arange(len(data.keep))
        for j in models:  # reference j plays the target; the others are its references
            others = models != j
            stats.append(self.compare(x[j], x[others], data.keep[others], z[j], z[others]))
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
