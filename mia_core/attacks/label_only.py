"""Label-only membership inference (Choquette-Choo, Tramèr, Carlini, Papernot, ICML 2021). The attacker
sees only the predicted class, never a confidence, and asks for the class of altered copies of a record:
- "shift", the augmentation attack: copies moved by up to one or two pixels;
- "noise", a cheap proxy for the distance to the decision boundary: copies with Gaussian noise of one of a few
  sizes.
A model that trained on the record keeps its true label under more of them. The statistic is that share. Which
of the settings to use (how far to shift, how much noise) is chosen on the attacker's shadow models, by the AUC
of the statistic on their own members and non-members, never on the target's; the threshold is learnt there
too, as for the other attacks.

The share takes few values (one per copy count), so many records tie; a TPR at a low FPR that the ties do not
let a threshold reach is reported as unresolved (`metrics.evaluate`), not as 0.
"""

import numpy as np
from sklearn.metrics import roc_auc_score

from .base import AttackData, MembershipAttack
from .calibration import MonotoneCalibration

# The queries' column layout in `label_answers` [N, A] (mia_core.queries asks them of a model): the shifted copies
# (the unshifted one included), then NOISE_COPIES noisy copies at each of NOISE_STDS (normalised units).
SHIFTS = tuple((dx, dy) for dx in range(-2, 3) for dy in range(-2, 3))  # 25 copies, up to 2 pixels each way
NOISE_STDS = (0.5, 1.0, 2.0)
NOISE_COPIES = 20  # per noise size
QUERY_COUNT = len(SHIFTS) + NOISE_COPIES * len(NOISE_STDS)


def _columns() -> dict[str, dict[str, np.ndarray]]:
    """Each kind of query's settings, each as its columns of `label_answers`."""
    shift = {f"shifts up to {r} pixel{'s' if r > 1 else ''}":
             np.array([i for i, (dx, dy) in enumerate(SHIFTS) if max(abs(dx), abs(dy)) <= r]) for r in (1, 2)}
    noise = {f"noise std {std}": len(SHIFTS) + NOISE_COPIES * k + np.arange(NOISE_COPIES)
             for k, std in enumerate(NOISE_STDS)}
    return {"shift": shift, "noise": noise}


SETTINGS = _columns()


class LabelOnlyAttack(MembershipAttack):
    reads = "labels"

    def __init__(self, *, queries: str = "shift"):
        if queries not in SETTINGS:
            raise ValueError(f"unknown label-only queries {queries!r}; choose one of {sorted(SETTINGS)}")
        self.queries = queries
        self.name = "label_only" if queries == "shift" else f"label_only_{queries}"
        self.setting_ = next(iter(SETTINGS[queries]))  # until `fit` chooses on the shadow models

    def fit(self, data: AttackData) -> "LabelOnlyAttack":
        """Choose the setting whose statistic best tells the shadow models' members from their non-members (the
        first of equals), then calibrate on them."""
        if data.label_answers is None:
            raise ValueError("the label-only attack needs the shadow models' answers on altered copies of their records")
        aucs = {setting: roc_auc_score(data.member, self._share(data.label_answers, data.labels, setting))
                for setting in SETTINGS[self.queries]}
        self.setting_ = max(aucs, key=aucs.get)
        self.shadow_aucs_ = aucs
        statistic = self.statistic(data.logits, data.labels, label_answers=data.label_answers)
        self.calibrator_ = MonotoneCalibration().fit(statistic, data.member)
        self.null_statistic_ = statistic[~data.member]
        return self

    def statistic(self, logits, labels: np.ndarray, reference=None, label_answers: np.ndarray | None = None):
        """The share of altered copies, in the chosen setting, answered with the true label: label_answers [N, A]
        -> [N]."""
        if label_answers is None:
            raise ValueError("the label-only attack needs the target's answers on altered copies of each record")
        return self._share(label_answers, labels, self.setting_)

    def _share(self, label_answers: np.ndarray, labels: np.ndarray, setting: str) -> np.ndarray:
        answers = np.asarray(label_answers)
        if answers.ndim != 2 or answers.shape[1] != QUERY_COUNT:
            raise ValueError(f"label answers must hold {QUERY_COUNT} altered copies per record, got shape "
                             f"{answers.shape}: answers stored with another set of queries need the models asked again")
        return (answers[:, SETTINGS[self.queries][setting]] == np.asarray(labels)[:, None]).mean(axis=1)
