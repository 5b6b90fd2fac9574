"""Training many small models: a target, its shadows, its reference models, described as `ModelSpec`s and
trained one task after another in this process (`InProcess`) or side by side in worker processes (the job
runner's `jobs.model_pool.ProcessPool`: one per core, one thread each, with the same interface). A spec holds record indices, not tensors: a worker reads the digits
itself. A task is one model, or a few trained side by side (`stacked.py`); `tasks` makes the stacks from the
specs alone, so with one torch thread per task both give the same weights for the same specs. A model answers the
records its spec asks about (`answer`: a shadow's attack data, a reference's pool) where it trained, so the caller
asks its models nothing more. Both also run other work the same way (`imap_unordered`): a run's attacks, once the
models they need are trained.
"""

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
from torch import nn

from ..config import TrainConfig
from ..models import build_model
from ..progress import ProgressFn, no_progress
from .altered_copies import label_answers
from .inference import predict_logits
from .loop import EpochStats
from .split_ai import SplitAI
from .stacked import stackable, stacks, train_stacked
from .train import train_model


@dataclass(frozen=True)
class ModelSpec:
    train: TrainConfig
    index: np.ndarray  # the records it trains on, as indices into the digits
    seed: int
    stage: str  # "target", "shadow 2/8", ... for progress
    validation: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # early stopping, if any
    test: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # the test curve, if any
    # The records the caller will ask the trained model about, asked where it trained, in the worker that trained it
    # (and, with answer_labels, its labels for their altered copies: `altered_copies.label_answers`).
    answer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    answer_labels: bool = False


@dataclass
class TrainedModel:
    model: nn.Module
    history: list[EpochStats]
    seconds: float  # this model's own training time
    logits: np.ndarray | None = None  # [len(spec.answer), C] its answers on the spec's `answer` records
    label_answers: np.ndarray | None = None  # [len(spec.answer), A] with the spec's `answer_labels`


# Called as each task's models arrive, with every model trained so far, by its index in the specs (it keeps track
# of what it has done): work that needs only some of the models can start at once.
ArrivalFn = Callable[[dict[int, TrainedModel]], None]


def train_spec(spec: ModelSpec, digits, progress: ProgressFn = no_progress) -> TrainedModel:
    start = time.perf_counter()
    model, history = train_model(spec.train, *digits.tensors(spec.index), seed=spec.seed,
                                 test=digits.tensors(spec.test) if len(spec.test) else None,
                                 validation=digits.tensors(spec.validation) if len(spec.validation) else None,
                                 progress=progress, stage=spec.stage)
    return TrainedModel(model, history, time.perf_counter() - start)


def tasks(specs: list[ModelSpec]) -> list[list[int]]:
    """The training tasks, as indices into `specs`: the models that can train side by side (`stackable`, as many
    records each; a target with its test curve too) in `stacks`, any other alone. A target comes first, in the
    first and smallest stack, so that what needs only it can run as soon as a core is spare."""
    return stacks([(spec.train, len(spec.index)) if stackable(spec.train) else None for spec in specs])


def train_task(specs: list[ModelSpec], digits, progress: ProgressFn = no_progress) -> list[TrainedModel]:
    """One model, or a stack side by side, each with its answers; each model's seconds are its share of the task's
    training."""
    if len(specs) == 1:
        trained = [train_spec(specs[0], digits, progress)]
    else:
        start = time.perf_counter()
        stacked = train_stacked(specs[0].train, [digits.tensors(s.index) for s in specs], [s.seed for s in specs],
                                tests=[digits.tensors(s.test) if len(s.test) else None for s in specs],
                                progress=progress, stage=" + ".join(s.stage for s in specs))
        seconds = (time.perf_counter() - start) / len(specs)
        trained = [TrainedModel(model, history, seconds) for model, history in stacked]
    return [answered(t, spec, digits) for t, spec in zip(trained, specs)]


def answered(trained: TrainedModel, spec: ModelSpec, digits) -> TrainedModel:
    """The model with its answers on the records `spec.answer` names."""
    if not len(spec.answer):
        return trained
    x = digits.tensors(spec.answer)[0]
    labels = None
    if spec.answer_labels:
        labels = label_answers(trained.model, x)
    return replace(trained, logits=predict_logits(trained.model, x), label_answers=labels)


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
    """One task after another, here, in the order of the specs."""

    peak_rss_mb = 0.0  # no worker processes

    def train(self, specs: list[ModelSpec], digits, progress: ProgressFn = no_progress, *,
              on_arrival: ArrivalFn | None = None) -> list[TrainedModel]:
        """One after another; `on_arrival` is not called: nothing else could run meanwhile."""
        trained = {}
        for task in tasks(specs):
            trained.update(zip(task, train_task([specs[i] for i in task], digits, progress)))
        return [trained[i] for i in range(len(specs))]

    def imap_unordered(self, fn: Callable, *arguments: Iterable) -> Iterator:
        """fn over the arguments, here, each call as its result is read."""
        return map(fn, *arguments)

    def shutdown(self) -> None:
        pass
