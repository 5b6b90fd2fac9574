"""A job's models trained side by side in worker processes of their own (`ProcessPool`): one per core, one thread
each, forked from the model-worker server (`executors.model_worker_context`). The same interface as
`training.pool.InProcess`, which trains them one after another where the job runs; both give the same weights for
the same specs."""

import resource
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import as_completed
from dataclasses import replace

from ..progress import Progress, ProgressFn, no_progress
from ..training.pool import ArrivalFn, ModelSpec, TrainedModel, model_from_state, tasks, train_task
from .executors import WorkerPool, model_worker_context, worker_setup
from .inputs import digits_for


def peak_rss_mb() -> float:
    """This process's peak resident memory."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _train_in_worker(specs: list[ModelSpec], data: dict) -> tuple[list[TrainedModel], float]:
    """The task's models, each as its weights (a state_dict in place of the model) and its answers; the worker's
    peak memory."""
    trained = train_task(specs, digits_for(data))
    return [replace(t, model=t.model.state_dict()) for t in trained], peak_rss_mb()


class ProcessPool:
    """`workers` processes, each training one task at a time; `data` names the digits as a job does
    ({"dir", "fingerprint"}). Progress: one event per finished model, that model's stage done."""

    def __init__(self, workers: int, data: dict):
        self.workers, self.data = workers, data
        self.peak_rss_mb = 0.0  # the largest peak resident memory any of its workers reported
        self._pool = WorkerPool(max_workers=workers, mp_context=model_worker_context(), initializer=worker_setup)

    def train(self, specs: list[ModelSpec], digits, progress: ProgressFn = no_progress, *,
              on_arrival: ArrivalFn | None = None) -> list[TrainedModel]:
        """The models, in the order of `specs`; `on_arrival` runs here each time a task's models arrive."""
        futures = {self._pool.submit(_train_in_worker, [specs[i] for i in task], self.data): task
                   for task in tasks(specs)}
        trained: dict[int, TrainedModel] = {}
        for future in as_completed(futures):
            results, peak = future.result()
            self.peak_rss_mb = max(self.peak_rss_mb, peak)
            for i, result in zip(futures[future], results):
                trained[i] = replace(result, model=model_from_state(specs[i].train, result.model))
                progress(Progress(specs[i].stage, 1, 1, {"seconds": result.seconds, "models_done": len(trained)}))
            if on_arrival is not None:
                on_arrival(dict(trained))
        return [trained[i] for i in range(len(specs))]

    def imap_unordered(self, fn: Callable, *arguments: Iterable) -> Iterator:
        """fn over the arguments in the workers, every call submitted now (after any task already asked for); the
        results as each call finishes. fn must be importable by name, and its arguments picklable."""
        futures = [self._pool.submit(fn, *args) for args in zip(*arguments)]
        return (future.result() for future in as_completed(futures))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
