"""Label-only membership inference (Choquette-Choo, Tramèr, Carlini, Papernot, ICML 2021). The attacker
sees only the predicted class, never a confidence, and asks for the class of altered copies of a record:
- "shift", the augmentation attack: copies moved by up to a pixel;
- "noise", a cheap proxy for the distance to the decision boundary: copies with Gaussian noise.
A model that trained on the record keeps its true label under more of them. The statistic is that
share; its threshold is learnt on shadow models, as for the other attacks. Hiding the confidences
therefore does not hide membership.
"""

import numpy as np

from .base import AttackData, MembershipAttack
from .calibration import MonotoneCalibration

# The queries' column layout in `label_answers` [N, A] (mia_core.queries asks them of a model).
SHIFTS = tuple((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1))  # 9 copies, the unshifted one included
NOISE_COPIES = 30
QUERIES = {"shift": slice(0, len(SHIFTS)), "noise": slice(len(SHIFTS), len(SHIFTS) + NOISE_COPIES)}


class LabelOnlyAttack(MembershipAttack):
    reads = "labels"

    def __init__(self, *, queries: str = "shift"):
        if queries not in QUERIES:
            raise ValueError(f"unknown label-only queries {queries!r}; choose one of {sorted(QUERIES)}")
        self.queries = queries
        self.name = "label_only" if queries == "shift" else f"label_only_{queries}"

    def fit(self, data: AttackData) -> "LabelOnlyAttack":
        if data.label_answers is None:
            raise ValueError("the label-only attack needs the shadow models' answers on altered copies of their records")
        statistic = self.statistic(data.logits, data.labels, label_answers=data.label_answers)
        self.calibrator_ = MonotoneCalibration().fit(statistic, data.member)
        self.null_statistic_ = statistic[~data.member]
        return self

    def statistic(self, logits, labels: np.ndarray, reference=None, label_answers: np.ndarray | None = None):
        """The share of altered copies answered with the true label: label_answers [N, A] -> [N]."""
        if label_answers is None:
            raise ValueError("the label-only attack needs the target's answers on altered copies of each record")
        answers = np.asarray(label_answers)[:, QUERIES[self.queries]]
        return (answers == np.asarray(labels)[:, None]).mean(axis=1)
