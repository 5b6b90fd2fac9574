"""Reference models for LiRA and RMIA: many LeNets, each trained exactly like the target (same
configuration, as many records, early stopping on a validation split of its own) on part of a
pool that holds the records to be scored.

Unlike shadow models, reference models may train on the very records the attack will
ask about (that is LiRA's threat model: the attacker knows the candidates, not their
membership). `keep[r, p]` records which model trained on what.
"""

import time
from dataclasses import dataclass

import numpy as np
from torch import nn

from ..attacks import ReferenceData, ReferenceQuery
from ..data import Digits
from ..progress import ProgressFn, no_progress
from ..training import predict_logits
from ..training.many import balanced_keep, train_ensemble, uses_vmap_ensemble
from ..training.pool import InProcess, ModelSpec, TrainedModel

POPULATION_SIZE = 1000  # RMIA's population samples z, from the attacker's pool, outside the reference pool
MIN_POPULATION = 500  # fewer, and RMIA's fraction of the population beaten is too coarse to rank records


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


@dataclass(frozen=True)
class ReferencePlan:
    pool: np.ndarray  # the scored records first, then records from the attacker's pool
    population: np.ndarray  # RMIA's population samples: no reference model trains on them
    validation: np.ndarray  # early stopping for every reference model, as the target has


def reference_plan(cfg, eval_index: np.ndarray, shadow_pool: np.ndarray) -> ReferencePlan:
    """Reference models train exactly like the target (cfg: ExperimentConfig), on cfg.train_size records
    of a pool that holds every scored record. From the attacker's pool, in this order: the validation
    split, the population, then a top-up of the pool towards twice a training set."""
    size, val = cfg.train_size, cfg.validation_size
    spare = np.random.default_rng([cfg.seed, 4]).permutation(shadow_pool)
    validation, rest = spare[:val], spare[val:]
    population = rest[:POPULATION_SIZE]
    top_up = rest[len(population):][:max(0, 2 * size - len(eval_index))]
    pool = np.concatenate([eval_index, top_up])
    if len(population) < MIN_POPULATION or len(pool) <= size:
        raise ValueError(
            f"reference models train on {size:,} digits like the target, so their pool must hold more than that, "
            f"and RMIA needs at least {MIN_POPULATION} population digits besides; the {len(eval_index):,} scored "
            f"records and the attacker's {len(shadow_pool):,} digits give a pool of {len(pool):,} and a population "
            f"of {len(population):,}: use a smaller train size, or full MNIST (--data-dir)")
    return ReferencePlan(pool, population, validation)


@dataclass(frozen=True)
class ReferenceTraining:
    plan: ReferencePlan
    keep: np.ndarray  # keep[m, p]: reference model m trains on pool record p
    specs: list[ModelSpec]


def reference_specs(cfg, digits: Digits, eval_index: np.ndarray, shadow_pool: np.ndarray, *,
                    count: int) -> ReferenceTraining:
    """`count` reference models, each on cfg.train_size records of the pool (cfg: ExperimentConfig); every
    pool record is in as equal a share of them as the counts allow (the `keep` matrix). Each answers the whole pool
    and RMIA's population."""
    plan = reference_plan(cfg, eval_index, shadow_pool)
    keep = balanced_keep(count, len(plan.pool), per_model=cfg.train_size, seed=cfg.seed)
    seed = cfg.seed + 77
    asked = np.concatenate([plan.pool, plan.population])
    specs = [ModelSpec(cfg.train, plan.pool[k], seed * 10_007 + m, f"reference {m + 1}/{count}",
                       validation=plan.validation, answer=asked) for m, k in enumerate(keep)]
    return ReferenceTraining(plan, keep, specs)


def reference_set(training: ReferenceTraining, digits: Digits, trained: list[TrainedModel]) -> ReferenceSet:
    """The trained references with their outputs on the pool and on RMIA's population (as their specs asked, or
    asked here: the vmap ensemble's)."""
    plan, models = training.plan, [t.model for t in trained]
    asked = training.specs[0].answer
    # float32, as the models compute them (exactly: `predict_logits` widens them to float64): half the stored size
    logits = np.stack([predict_logits(t.model, digits.tensors(asked)[0]) if t.logits is None else t.logits
                       for t in trained]).astype(np.float32)  # -> [R, P + Z, C]
    pool = len(plan.pool)
    data = ReferenceData(
        logits=logits[:, :pool], labels=digits.labels[plan.pool], keep=training.keep,
        population_logits=logits[:, pool:], population_labels=digits.labels[plan.population])
    return ReferenceSet(models, plan.pool, plan.population, data, sum(t.seconds for t in trained))


def train_references(cfg, digits: Digits, eval_index: np.ndarray, shadow_pool: np.ndarray, *, count: int,
                     progress: ProgressFn = no_progress, trainer=None) -> ReferenceSet:
    """Train `reference_specs`: all at once with vmap on CUDA, else with `trainer` (default: one after
    another, here)."""
    training = reference_specs(cfg, digits, eval_index, shadow_pool, count=count)
    if uses_vmap_ensemble(cfg.train):
        start = time.perf_counter()
        models = train_ensemble(cfg.train, *digits.tensors(training.plan.pool), training.keep, seed=cfg.seed + 77,
                                progress=progress, stage="reference")
        seconds = (time.perf_counter() - start) / count
        return reference_set(training, digits, [TrainedModel(m, [], seconds) for m in models])
    return reference_set(training, digits, (trainer or InProcess()).train(training.specs, digits, progress))
