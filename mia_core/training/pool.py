"""Training many small models: a target, its shadows, its reference models, described as `ModelSpec`s and
trained one after another in this process (`InProcess`) or side by side in worker processes (`ProcessPool`:
one per core, one torch thread each). A spec holds record indices, not tensors: a worker reads the digits
itself. With one torch thread per model, both give the same weights for the same spec.
"""

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from ..config import TrainConfig
from ..models import build_model
from ..progress import Progress, ProgressFn, no_progress
from ..split_ai import SplitAI
from .loop import EpochStats, train_model


@dataclass(frozen=True)
class ModelSpec:
    train: TrainConfig
    index: np.ndarray  # the records it trains on, as indices into the digits
    seed: int
    stage: str  # "target", "shadow 2/8", ... for progress
    validation: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # early stopping, if any
    test: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # the test curve, if any


@dataclass
class TrainedModel:
    model: nn.Module
    history: list[EpochStats]
    seconds: float  # this model's own training time


# Work for this process while a worker has no model left to train: it gets the models trained so far, by their
# index in the specs, and is called again as each further model arrives (it keeps track of what it has done).
SpareCoreFn = Callable[[dict[int, TrainedModel]], None]


def train_spec(spec: ModelSpec, digits, progress: ProgressFn = no_progress) -> TrainedModel:
    start = time.perf_counter()
    model, history = train_model(spec.train, *digits.tensors(spec.index), seed=spec.seed,
                                 test=digits.tensors(spec.test) if len(spec.test) else None,
                                 validation=digits.tensors(spec.validation) if len(spec.validation) else None,
                                 progress=progress, stage=spec.stage)
    return TrainedModel(model, history, time.perf_counter() - start)


def model_from_state(train: TrainConfig, state: dict) -> nn.Module:
    """A model of the configured shape holding `state` (a Split-AI ensemble takes its member count from it)."""
    if not train.split_models:
        model = build_model(train.arch, dropout=train.dropout)
    else:
        parts = [build_model(train.arch, dropout=train.dropout) for _ in range(train.split_models)]
        members = state["fingerprints"].shape[0] if "fingerprints" in state else 0
        model = SplitAI(parts, held_out=train.split_held_out, members=members)
    model.load_state_dict(state)
    return model.eval()


class InProcess:
    """One model after another, here."""

    peak_rss_mb = 0.0  # no worker processes

    def train(self, specs: list[ModelSpec], digits, progress: ProgressFn = no_progress, *,
              spare_core: SpareCoreFn | None = None) -> list[TrainedModel]:
        """One after another: no core is ever spare, and `spare_core` is never called."""
        return [train_spec(spec, digits, progress) for spec in specs]

    def shutdown(self) -> None:
        pass


def _train_in_worker(spec: ModelSpec, data: dict) -> tuple[dict, list[EpochStats], float, float]:
    from ..jobs.tasks import digits_for, peak_rss_mb

    trained = train_spec(spec, digits_for(data))
    return trained.model.state_dict(), trained.history, trained.seconds, peak_rss_mb()


class ProcessPool:
    """`workers` processes, each training one model at a time; `data` names the digits as a job does
    ({"dir", "fingerprint"}). Progress: one event per finished model, that model's stage done."""

    def __init__(self, workers: int, data: dict):
        from ..jobs.executors import model_worker_context, worker_setup

        self.workers, self.data = workers, data
        self.peak_rss_mb = 0.0  # the largest peak resident memory any of its workers reported
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=model_worker_context(),
                                         initializer=worker_setup)

    def train(self, specs: list[ModelSpec], digits, progress: ProgressFn = no_progress, *,
              spare_core: SpareCoreFn | None = None) -> list[TrainedModel]:
        """The models, in the order of `specs`. `spare_core` runs here each time a model arrives and leaves fewer
        models to train than there are workers: a core is then free for this process's own work."""
        futures = {self._pool.submit(_train_in_worker, spec, self.data): i for i, spec in enumerate(specs)}
        trained: dict[int, TrainedModel] = {}
        for done, future in enumerate(as_completed(futures), 1):
            i = futures[future]
            state, history, seconds, peak = future.result()
            self.peak_rss_mb = max(self.peak_rss_mb, peak)
            trained[i] = TrainedModel(model_from_state(specs[i].train, state), history, seconds)
            progress(Progress(specs[i].stage, 1, 1, {"seconds": seconds, "models_done": done}))
            if spare_core is not None and len(specs) - done < self.workers:
                spare_core(dict(trained))
        return [trained[i] for i in range(len(specs))]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
