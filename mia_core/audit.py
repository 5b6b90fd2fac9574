"""Auditing epsilon in one training run (Steinke, Nasr, Jagielski, "Privacy auditing with one (1)
training run", NeurIPS 2023, arXiv 2305.08846).

m canaries are drawn; each goes into the training set with probability 1/2. After one training run
an auditor guesses "in" for the k canaries the model is surest about and counts the correct guesses.
An (epsilon, delta)-DP training run cannot make many correct guesses likely: the paper's theorem
bounds the chance of v or more correct out of r guesses by

    p(epsilon) = beta + alpha * 2 m delta,   beta = P[Binomial(r, q) >= v],  q = e^eps / (1 + e^eps),
    alpha = max over i = 1..v of (P[Binomial(r, q) >= v - i] - beta) / i.

The largest epsilon with p(epsilon) <= 1 - confidence is refuted: it is the empirical lower bound.

Canaries here are mislabelled digits from outside every split the target uses (a digit with a
wrong label is the classic worst-case canary: a model that includes it must memorise it). Each is
scored with the loss on its canary label, the strongest signal that needs no reference models.
The auditor tries a few guess counts k fixed in advance, splitting the failure probability
between them (Bonferroni), so picking the best k afterwards does not inflate the bound.
"""

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy.optimize import brentq
from scipy.special import expit
from scipy.stats import binom

from .attacks.signals import neg_log_loss
from .config import ExperimentConfig
from .data import Digits
from .pipeline import split_for
from .progress import ProgressFn, no_progress
from .training import accuracy, predict_logits, train_model

GUESS_SHARES = (0.05, 0.1, 0.2, 0.3, 0.5)  # guess counts k, as shares of the canaries, fixed before looking
EPSILON_CAP = 50.0  # above this every correct-guess count is explained anyway


def one_run_p_value(*, canaries: int, guesses: int, correct: int, epsilon: float, delta: float) -> float:
    """The paper's bound on P[at least `correct` of `guesses` right] under (epsilon, delta)-DP."""
    q = expit(epsilon)
    beta = binom.sf(correct - 1, guesses, q)  # P[Binomial >= correct]
    if delta == 0 or correct == 0:
        return float(beta)
    i = np.arange(1, correct + 1)
    alpha = np.max((binom.sf(correct - i - 1, guesses, q) - beta) / i)
    return float(min(beta + alpha * 2 * canaries * delta, 1.0))


def epsilon_lower_bound(*, canaries: int, guesses: int, correct: int, delta: float,
                        confidence: float = 0.95) -> float:
    """The largest epsilon that `correct` right out of `guesses` refutes at `confidence` (0 if none)."""
    significance = 1 - confidence

    def refuted(epsilon: float) -> float:  # positive while the (epsilon, delta) claim is refuted
        return significance - one_run_p_value(canaries=canaries, guesses=guesses, correct=correct,
                                              epsilon=epsilon, delta=delta)

    if guesses == 0 or refuted(0.0) <= 0:
        return 0.0
    if refuted(EPSILON_CAP) > 0:
        return EPSILON_CAP
    return float(brentq(refuted, 0.0, EPSILON_CAP, xtol=1e-6))


@dataclass(frozen=True)
class AuditResult:
    canaries: int
    inserted: int  # canaries that went into the training set
    guesses: int  # the guess count that gave the bound
    correct: int
    epsilon_lower_bound: float  # empirical, at `confidence`
    accountant_epsilon: float | None  # what DP-SGD's accountant promises; None without DP (no promise)
    delta: float
    confidence: float
    signal: str
    train_accuracy: float
    test_accuracy: float
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        promised = ("no promise: the target was trained without DP" if self.accountant_epsilon is None
                    else f"the accountant promises epsilon {self.accountant_epsilon:.2f}")
        return (f"{self.correct} of the {self.guesses} canaries guessed to be in were in ({self.inserted} of "
                f"{self.canaries} inserted): epsilon is at least {self.epsilon_lower_bound:.2f} "
                f"({self.confidence:.0%} confidence, delta {self.delta:g}); {promised}.")


def canaries(digits: Digits, cfg: ExperimentConfig, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` digits from outside every split the target uses, each with a wrong label: (index, label)."""
    splits = split_for(cfg, digits)
    used = np.concatenate([splits.members, splits.non_members, splits.test, splits.validation])
    free = np.setdiff1d(np.arange(len(digits)), used)
    if count > len(free):
        raise ValueError(f"{count} canaries asked for, but only {len(free):,} digits lie outside the target's splits")
    rng = np.random.default_rng([cfg.seed, 11])
    index = np.sort(rng.choice(free, count, replace=False))
    wrong = (digits.labels[index] + rng.integers(1, 10, count)) % 10  # any label but the true one
    return index, wrong


def run_audit(cfg: ExperimentConfig, digits: Digits, *, count: int = 200, confidence: float = 0.95,
              progress: ProgressFn = no_progress) -> AuditResult:
    """Train the target of `cfg` once with `count` canaries, each inserted with probability 1/2, and bound
    its epsilon from below."""
    if count < 10:
        raise ValueError(f"an audit needs at least 10 canaries, got {count}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    start = time.perf_counter()
    splits = split_for(cfg, digits)
    index, wrong = canaries(digits, cfg, count)
    inserted = np.random.default_rng([cfg.seed, 12]).random(count) < 0.5
    x_members, y_members = digits.tensors(splits.members)
    x_canaries, _ = digits.tensors(index)
    x = torch.cat([x_members, x_canaries[inserted]])
    y = torch.cat([y_members, torch.as_tensor(wrong[inserted])])
    test = digits.tensors(splits.test)
    validation = digits.tensors(splits.validation) if len(splits.validation) else None
    model, history = train_model(cfg.train, x, y, seed=cfg.seed, test=test, validation=validation,
                                 progress=progress, stage="audit target")
    scores = neg_log_loss(predict_logits(model, x_canaries), wrong)  # higher = more likely inserted
    order = np.argsort(-scores, kind="stable")
    guess_counts = sorted({max(1, round(share * count)) for share in GUESS_SHARES})
    per_test = 1 - (1 - confidence) / len(guess_counts)  # Bonferroni over the guess counts tried
    delta = cfg.train.dp_delta
    bounds = [(epsilon_lower_bound(canaries=count, guesses=k, correct=int(inserted[order[:k]].sum()), delta=delta,
                                   confidence=per_test), k, int(inserted[order[:k]].sum())) for k in guess_counts]
    bound, guesses, correct = max(bounds)
    return AuditResult(canaries=count, inserted=int(inserted.sum()), guesses=guesses, correct=correct,
                       epsilon_lower_bound=bound, accountant_epsilon=history[-1].epsilon if cfg.train.private else None,
                       delta=delta, confidence=confidence, signal="loss on the canary's wrong label",
                       train_accuracy=accuracy(model, x_members, y_members), test_accuracy=accuracy(model, *test),
                       seconds=time.perf_counter() - start)
