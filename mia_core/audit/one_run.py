"""Auditing epsilon in one training run (Steinke, Nasr, Jagielski, "Privacy auditing with one (1)
training run", NeurIPS 2023, arXiv 2305.08846), black-box, and the white-box audit beside it (`whitebox`).

m canaries are drawn; each goes into the training set with probability 1/2. After one training run
an auditor guesses "in" for the canaries the model is surest about, "out" for those it is least sure
about, abstains on the rest, and counts the correct guesses (`guesses`). Two analyses turn the
count into an epsilon the run refutes (`bounds`): Steinke et al.'s for (epsilon, delta)-DP, and
Mahloujifar, Melis & Chaudhuri's f-DP analysis for the Gaussian trade-off curve. Each comes with its
ceiling, what every guess right would have proved: with few canaries a perfect attack proves little.

Canaries here are mislabelled digits from outside every split the target uses (a digit with a
wrong label is the classic worst-case canary: a model that includes it must memorise it). Each is
scored with the loss on its canary label, the strongest signal that needs no reference models.
The auditor tries a few guess counts fixed in advance, splitting the failure probability
between them (Bonferroni), so picking the best afterwards does not inflate the bound.
"""

import time

import numpy as np
import torch

from ..attacks.signals import neg_log_loss
from ..config import ExperimentConfig
from ..data import Digits
from ..experiment.run import split_for
from ..progress import ProgressFn, no_progress
from ..training import accuracy, predict_logits, train_model
from .bounds import epsilon_lower_bound
from .guesses import AuditResult, judge
from .whitebox import run_white_box_audit

BLACK_BOX_CANARIES = 200
GUESS_SHARES = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0)  # guess counts, as shares of the canaries, fixed before looking


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


def run_audit(cfg: ExperimentConfig, digits: Digits, *, count: int = BLACK_BOX_CANARIES, confidence: float = 0.95,
              white_box: bool = False, progress: ProgressFn = no_progress) -> AuditResult:
    """Train the target of `cfg` once with `count` canaries, each inserted with probability 1/2, and bound
    its epsilon from below: data canaries scored from the trained model, or (`white_box`) gradient canaries in
    DP-SGD's clipped sum, scored from every step's update."""
    if white_box:
        return run_white_box_audit(cfg, digits, count=count, confidence=confidence, progress=progress)
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
    guess_counts = tuple(sorted({max(2, round(share * count)) for share in GUESS_SHARES}))
    judged = judge(scores, inserted, guess_counts, delta=cfg.train.dp_delta, confidence=confidence,
                   accountant_epsilon=history[-1].epsilon if cfg.train.private else None)
    return AuditResult(kind="black-box", **judged, signal="loss on the canary's wrong label",
                       train_accuracy=accuracy(model, x_members, y_members), test_accuracy=accuracy(model, *test),
                       seconds=time.perf_counter() - start)
