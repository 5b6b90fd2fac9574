"""Threshold attacks on one scalar signal (loss, confidence, entropy, modified entropy).

The statistic is the signal itself (higher = member, see `signals`). Its threshold is learnt on
shadow data only: a monotone calibration maps the signal to a member probability, and its 0.5
point is the threshold.
"""

import numpy as np

from .base import AttackData, MembershipAttack
from .calibration import MonotoneCalibration
from .signals import SIGNALS


class ThresholdAttack(MembershipAttack):
    def __init__(self, signal: str = "loss"):
        if signal not in SIGNALS:
            raise ValueError(f"unknown signal {signal!r}; choose one of {sorted(SIGNALS)}")
        self.signal = signal
        self.name = signal

    def fit(self, data: AttackData) -> "ThresholdAttack":
        statistic = self.statistic(data.logits, data.labels)
        self.calibrator_ = MonotoneCalibration().fit(statistic, data.member)
        self.threshold_ = self.calibrator_.threshold_
        self.null_statistic_ = statistic[~data.member]
        return self

    def statistic(self, logits: np.ndarray, labels: np.ndarray, reference=None, label_answers=None) -> np.ndarray:
        return SIGNALS[self.signal](logits, labels)  # -> [N]
