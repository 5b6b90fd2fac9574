"""The job runner: a FIFO queue in front of `capacity` slots, a result file per key, a progress file per
running job.

    <root>/<key>.json            a finished job's result, written once, atomically, never rewritten
    <root>/running/<key>.json    the latest progress of a running job (and its worker's pid)

A job that fails, or whose worker is killed, writes no result; its progress file is removed and the
slot it ran on is replaced, and every other job goes on.
"""

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from ..progress import Progress, ProgressFn, no_progress
from .executors import make_executor
from .files import events, read_json, write_atomically
from .keys import job_key
from .tasks import execute, validate

JOBS_ENV = "MIA_JOBS_DIR"


def jobs_dir(store_root: str | os.PathLike) -> Path:
    """Where results are kept: $MIA_JOBS_DIR, else `.jobs` in the model store (a name no model can take)."""
    return Path(os.environ.get(JOBS_ENV) or Path(store_root) / ".jobs")


class JobFailed(Exception):
    """A job raised, or its worker died. The message says which and why."""


@dataclass(eq=False)
class Job:
    """One submitted job, shared by every caller that asked for the same key."""

    key: str
    task: str
    runner: "JobRunner"
    future: Future = field(default_factory=Future)  # resolves to the result dict, or raises JobFailed
    submitted: float = field(default_factory=time.time)
    kept: bool = False  # answered at once from the kept result of an identical earlier run

    def done(self) -> bool:
        return self.future.done()

    def result(self, timeout: float | None = None) -> dict:
        return self.future.result(timeout)

    def progress(self) -> Progress | None:
        """The latest progress its worker reported, or None before it starts."""
        return events(read_json(self.runner.progress_path(self.key)))[1]

    def place(self) -> int:
        """0 once running (or done), else its place in the queue: 1 is next."""
        return self.runner.place(self)

    def wait(self, progress: ProgressFn = no_progress, *, poll: float = 0.25,
             on_wait: Callable[["Job"], None] | None = None) -> dict:
        """Block until done, passing the worker's progress to `progress`: every finished stage, and the latest
        event at each poll (and this job to `on_wait` each poll)."""
        told, last = 0, None
        while True:
            try:
                return self.future.result(timeout=poll)
            except TimeoutError:
                pass
            if on_wait:
                on_wait(self)
            finished, latest = events(read_json(self.runner.progress_path(self.key)))
            for event in finished[told:]:
                progress(event)
            told = max(told, len(finished))
            if latest is not None and latest != last and latest.step < latest.total:
                progress(latest)
            last = latest


class JobRunner:
    """Submit a task; get the Job every identical request shares.

    `executor`: "local" (worker processes, the default), "inline" (this process) or "ray".
    `workers`: local worker processes (default: one per core). `address`: the Ray cluster to join.
    `model_workers`: processes of its own in which each job trains its models side by side (default 1:
    one after another, in the job's worker; more suits a command that runs one job on an idle machine).
    """

    def __init__(self, root: str | os.PathLike, *, executor: str = "local", workers: int | None = None,
                 address: str | None = None, model_workers: int = 1):
        self.root = Path(root)
        self.model_workers = model_workers
        self.executor_name = executor
        self.executor = make_executor(executor, workers=workers, address=address)
        # Reentrant: a job that is already done when its callback is added (an inline job that fails at once)
        # runs the callback, which takes the lock, inside the dispatch that holds it.
        self._lock = threading.RLock()
        self._running: dict[str, Job] = {}  # key -> job, submitted and not finished
        self._queue: list[tuple[Job, dict]] = []  # waiting for a slot, in order
        self._idle: list = []  # slots free for the next job
        self._slots = 0  # slots made so far

    def result_path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def progress_path(self, key: str) -> Path:
        return self.root / "running" / f"{key}.json"

    def submit(self, task: str, params: dict, *, cache: bool = True) -> Job:
        """The job for (task, params): finished at once if its result is kept, the running one if any
        session asked for it already, else a new one in the queue. `cache=False` for tasks with side
        effects (saving a model): they run every time, and their result is not kept."""
        validate(task, params)
        key = job_key(task, params)
        with self._lock:
            if key in self._running:
                return self._running[key]
            job = Job(key, task, self)
            kept = read_json(self.result_path(key)) if cache else None
            if kept is not None:
                job.kept = True
                job.future.set_result(kept)
                return job
            self._running[key] = job
            self._queue.append((job, {"params": params, "cache": cache}))
            self._dispatch()
            return job

    def place(self, job: Job) -> int:
        with self._lock:
            waiting = [j for j, _ in self._queue]
            return waiting.index(job) + 1 if job in waiting else 0

    def _dispatch(self) -> None:
        """Start queued jobs while a slot is free. Holds the lock."""
        while self._queue:
            if self._idle:
                slot = self._idle.pop()
            elif self._slots < self.executor.capacity:
                slot = self.executor.new_slot()
                self._slots += 1
            else:
                return
            job, spec = self._queue.pop(0)
            self.progress_path(job.key).unlink(missing_ok=True)
            try:
                inner = slot.submit(execute, job.task, spec["params"], str(self.progress_path(job.key)),
                                    self.model_workers)
            except (RuntimeError, BrokenProcessPool) as err:  # a pool shut down or broken before the job went in
                self._slots -= 1
                self._finish(job, spec, slot, error=JobFailed(f"could not start: {err}"))
                continue
            inner.add_done_callback(lambda f, job=job, spec=spec, slot=slot: self._done(job, spec, slot, f))

    def _done(self, job: Job, spec: dict, slot, inner: Future) -> None:
        died = False
        try:
            result, error = inner.result(), None
        except BrokenProcessPool:
            died, result, error = True, None, JobFailed(f"the worker running this {job.task} job died "
                                                        "(killed, or out of memory)")
        except Exception as err:  # noqa: BLE001 - any exception in a job becomes that job's failure, nothing more
            result, error = None, JobFailed(f"{err} ({type(err).__name__})")
        with self._lock:
            if died:
                slot.shutdown(wait=False, cancel_futures=True)
                self._slots -= 1  # a new worker takes its place on the next dispatch
            else:
                self._idle.append(slot)
            self._finish(job, spec, slot, result=result, error=error)
            self._dispatch()

    def _finish(self, job: Job, spec: dict, slot, *, result: dict | None = None, error: Exception | None = None):
        """Keep the result (only a whole one), clear the progress file, answer every waiter. Holds the lock."""
        if error is None:
            result = json.loads(json.dumps(result))  # as a kept result reads back: lists, not tuples
            if spec["cache"]:
                write_atomically(self.result_path(job.key), result)
        self.progress_path(job.key).unlink(missing_ok=True)
        self._running.pop(job.key, None)
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)

    def shutdown(self) -> None:
        self.executor.shutdown()
