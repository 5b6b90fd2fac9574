"""Threshold attacks on one scalar signal (loss, confidence, entropy, modified entropy).

The threshold is learnt on shadow data only: a one-feature logistic regression maps
the signal to a calibrated member probability; its 0.5 point is the threshold.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

from .base import AttackData, MembershipAttack
from .signals import SIGNALS


class ThresholdAttack(MembershipAttack):
    def __init__(self, signal: str = "loss"):
        if signal not in SIGNALS:
            raise ValueError(f"unknown signal {signal!r}; choose one of {sorted(SIGNALS)}")
        self.signal = signal
        self.name = signal

    def _feature(self, logits, labels) -> np.ndarray:
        return SIGNALS[self.signal](logits, labels)[:, None]  # -> [R, 1]

    def fit(self, data: AttackData) -> "ThresholdAttack":
        self.calibrator_ = LogisticRegression(C=1e4).fit(self._feature(data.logits, data.labels), data.member)
        slope = self.calibrator_.coef_[0, 0]
        # A slope of 0: the signal does not separate the shadows' members at all, so no threshold does.
        self.threshold_ = float(-self.calibrator_.intercept_[0] / slope) if slope else float("nan")
        return self

    def score(self, logits: np.ndarray, labels: np.ndarray, reference=None) -> np.ndarray:
        return self.calibrator_.predict_proba(self._feature(logits, labels))[:, 1]
