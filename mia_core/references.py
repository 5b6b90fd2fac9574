"""Reference models for LiRA and RMIA: many LeNets, each trained like the target on a
random half of a pool that holds the records to be scored.

Unlike shadow models, reference models may train on the very records the attack will
ask about (that is LiRA's threat model: the attacker knows the candidates, not their
membership). `keep[r, p]` records which model trained on what.
"""

import time
from dataclasses import dataclass

import numpy as np
from torch import nn

from .attacks import ReferenceData, ReferenceQuery
from .data import Digits
from .ensemble import balanced_keep, train_many
from .progress import ProgressFn, no_progress
from .training import predict_logits

POPULATION_SIZE = 1000  # RMIA's population samples z, from the attacker's pool, outside the reference pool


@dataclass
class ReferenceSet:
    models: list[nn.Module]
    index: np.ndarray  # [P] the reference pool, as indices into the digits
    population_index: np.ndarray  # [Z]
    data: ReferenceData
    seconds: float

    def query(self, index: np.ndarray, target_population_logits: np.ndarray) -> ReferenceQuery:
        """The references' view of pool records `index` (all must be in the pool)."""
        position = {int(i): p for p, i in enumerate(self.index)}
        try:
            cols = np.array([position[int(i)] for i in index])
        except KeyError as err:
            raise ValueError(f"record {err.args[0]} is not in the reference pool") from None
        return ReferenceQuery(self.data.logits[:, cols], self.data.keep[:, cols], target_population_logits)

    def query_new(self, x, target_population_logits: np.ndarray) -> ReferenceQuery:
        """The references' view of records none of them trained on (a drawn digit): x [N, 1, 28, 28]."""
        logits = np.stack([predict_logits(m, x) for m in self.models])  # -> [R, N, C]
        return ReferenceQuery(logits, np.zeros(logits.shape[:2], bool), target_population_logits)


def reference_pool(eval_index: np.ndarray, shadow_pool: np.ndarray, *, train_size: int,
                   seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The scored records, topped up from the attacker's pool so that a half is one training set."""
    rng = np.random.default_rng([seed, 4])
    spare = rng.permutation(shadow_pool)
    top_up = max(0, min(2 * train_size - len(eval_index), len(spare) - 1))
    pool = np.concatenate([eval_index, spare[:top_up]])
    population = spare[top_up:top_up + POPULATION_SIZE]
    return pool, population


def train_references(cfg, digits: Digits, eval_index: np.ndarray, shadow_pool: np.ndarray, *, count: int,
                     progress: ProgressFn = no_progress) -> ReferenceSet:
    """`count` reference models on balanced random halves of the reference pool. cfg: ExperimentConfig."""
    start = time.perf_counter()
    pool, population = reference_pool(eval_index, shadow_pool, train_size=cfg.train_size, seed=cfg.seed)
    keep = balanced_keep(count, len(pool), seed=cfg.seed)
    x, y = digits.tensors(pool)
    models = train_many(cfg.train, x, y, keep, seed=cfg.seed + 77, progress=progress, stage="reference")
    x_pop = digits.tensors(population)[0]
    data = ReferenceData(
        logits=np.stack([predict_logits(m, x) for m in models]), labels=digits.labels[pool], keep=keep,
        population_logits=np.stack([predict_logits(m, x_pop) for m in models]),
        population_labels=digits.labels[population])
    return ReferenceSet(models, pool, population, data, time.perf_counter() - start)
