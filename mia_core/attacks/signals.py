"""Per-example membership signals from logits [N, C] and labels [N]. Pure numpy math.

Each returns a float64 [N] array where HIGHER means "more likely a member".
"""

import numpy as np
from scipy.special import log_softmax

EPS = 1e-12


def log_probs(logits: np.ndarray) -> np.ndarray:
    return log_softmax(np.asarray(logits, dtype=np.float64), axis=-1)


def true_class_log_prob(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """logits [..., N, C] (one model's, or [R, N, C] many models' on the same records), labels [N] -> [..., N]."""
    return _true_class(log_probs(logits), labels)


def _true_class(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """values [..., N, C] at each record's class labels [N] -> [..., N]."""
    return np.take_along_axis(values, _label_index(values, labels), axis=-1)[..., 0]


def _label_index(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.asarray(labels)[:, None], values.shape[:-1] + (1,))


def neg_log_loss(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Yeom et al. 2018 on a log scale: -log(cross-entropy). Members have tiny losses."""
    loss = -true_class_log_prob(logits, labels)
    return -np.log(loss + EPS)


def scaled_confidence(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The top prediction's confidence p, logit-scaled as log(p / (1 - p)) (label-free)."""
    lp = np.sort(log_probs(logits), axis=1)
    top, rest = lp[:, -1], np.logaddexp.reduce(lp[:, :-1], axis=1)
    return top - rest  # log p - log(1 - p), computed without cancellation


def neg_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Minus the prediction entropy (label-free): members get sharper predictions."""
    lp = log_probs(logits)
    return (np.exp(lp) * lp).sum(axis=1)


def neg_modified_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Song & Mittal 2021: -Mentr, where Mentr = -(1-p_y) log p_y - sum_{i != y} p_i log(1-p_i)."""
    lp = log_probs(logits)
    p = np.exp(lp)
    log_1mp = np.log1p(-np.minimum(p, 1 - EPS))
    rows = np.arange(len(labels))
    py, log_py = p[rows, labels], lp[rows, labels]
    others = -(p * log_1mp).sum(axis=1) + p[rows, labels] * log_1mp[rows, labels]
    mentr = -(1 - py) * log_py + others
    return -mentr


SIGNALS = {
    "loss": neg_log_loss,
    "confidence": scaled_confidence,
    "entropy": neg_entropy,
    "modified_entropy": neg_modified_entropy,
}


def scaled_true_class_confidence(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """LiRA's statistic: log(p_y / (1 - p_y)) for the true class y, computed without cancellation.
    logits [..., N, C], labels [N] -> [..., N]."""
    lp = log_probs(logits)
    others = lp.copy()
    np.put_along_axis(others, _label_index(lp, labels), -np.inf, axis=-1)
    return _true_class(lp, labels) - np.logaddexp.reduce(others, axis=-1)


def true_class_probability(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """logits [..., N, C], labels [N] -> [..., N]."""
    return np.exp(true_class_log_prob(logits, labels))
