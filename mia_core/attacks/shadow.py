"""Shokri et al. 2017: one attack model per class, trained on shadow models' outputs.

Features are the log-probability vector of the queried model; the per-class split
uses the record's true label. A class with too little shadow data falls back to one
model trained on every class, which is fitted only when some class needs it.
"""

import warnings

import numpy as np

from .base import AttackData, MembershipAttack
from .signals import log_probs

MIN_PER_LABEL = 5  # members and non-members a class needs for a model of its own
MAX_PER_CLASS = 1000  # records an attack model trains on per class: beyond this, more shadow data barely helps


def features(logits: np.ndarray) -> np.ndarray:
    return np.maximum(log_probs(logits), -50.0)  # -> [R, C]; clipped so scaling stays finite


class ShadowModelAttack(MembershipAttack):
    name = "shadow"

    # 100 epochs, not 300: a third of the fitting time, which was most of the attacks stage, and on the overfit
    # preset an AUC that moved well inside its 95% interval when this changed.
    def __init__(self, *, hidden: int = 64, max_iter: int = 100, seed: int = 0):
        self.hidden, self.max_iter, self.seed = hidden, max_iter, seed

    def _new_model(self):
        from sklearn.neural_network import MLPClassifier  # scikit-learn loads when an attack model is made
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), MLPClassifier(
            hidden_layer_sizes=(self.hidden,), max_iter=self.max_iter, random_state=self.seed))

    def fit(self, data: AttackData) -> "ShadowModelAttack":
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():  # a capped number of epochs is the intended budget
            warnings.simplefilter("ignore", ConvergenceWarning)
            return self._fit(data)

    def _fit(self, data: AttackData) -> "ShadowModelAttack":
        x = features(data.logits)
        rng = np.random.default_rng(self.seed)
        self.models_: dict[int, object] = {}
        for c in np.unique(data.labels):
            rows = np.flatnonzero(data.labels == c)
            if len(rows) > MAX_PER_CLASS:
                rows = np.sort(rng.choice(rows, MAX_PER_CLASS, replace=False))
            if min(data.member[rows].sum(), (~data.member[rows]).sum()) >= MIN_PER_LABEL:
                self.models_[int(c)] = self._fitted(x[rows], data.member[rows])
        self.fallback_ = None
        if len(self.models_) < data.logits.shape[1]:  # a class without a model of its own: one for every class
            rows = rng.choice(len(x), min(len(x), 2 * MAX_PER_CLASS), replace=False)
            self.fallback_ = self._fitted(x[rows], data.member[rows])
        if self.needs == "shadow":  # the shadows' non-members, which the attack models also fitted on
            self.null_statistic_ = self.statistic(data.logits[~data.member], data.labels[~data.member])
        return self

    def _fitted(self, x: np.ndarray, member: np.ndarray):
        """An attack model with members and non-members weighing half each: its 0.5 is at a 50% prior."""
        weight = np.where(member, len(member) / (2 * member.sum()), len(member) / (2 * (~member).sum()))
        return self._new_model().fit(x, member, mlpclassifier__sample_weight=weight)

    def statistic(self, logits: np.ndarray, labels: np.ndarray, reference=None, label_answers=None) -> np.ndarray:
        """The attack models' member probability: already a probability, so `score` returns it as is."""
        x = features(logits)
        out = np.full(len(x), np.nan) if self.fallback_ is None else self.fallback_.predict_proba(x)[:, 1]
        for c, model in self.models_.items():
            rows = labels == c
            if rows.any():
                out[rows] = model.predict_proba(x[rows])[:, 1]
        return out


    def score(self, logits: np.ndarray, labels: np.ndarray, reference=None, label_answers=None) -> np.ndarray:
        return self.statistic(logits, labels)


class SeedInSampleAttack(ShadowModelAttack):
    """The seed project's setting: the same attack model, fitted AND scored on the target's own
    membership labels. No attacker has those labels, and it is no bound on leakage either: an
    attack model fitted and scored on the same records can memorise their labels even when the
    target leaks nothing. Shown only beside the real attacks, for the comparison with the seed."""

    name = "seed_in_sample"
    needs = "target_membership"
