"""One runner for all slow work: training, attacks, sweeps, reproductions and the demo build.

A job is a task name (`tasks.TASKS`) and its parameters, a JSON-able dict that holds the full
configuration, the seed and the identity of the data. Its key is a hash of those (`keys.job_key`):
identical requests, from any session, wait on the same job and share its result, and a finished
result is kept under its key and answered at once next time. Jobs run in worker processes (one per
core, one torch thread each), in this process, or on Ray (`executors`).

Importing this package loads no numpy or torch: a worker process imports it (for `executors.worker_setup`)
before it sets one thread per library, so the runner, and with it the tasks and the whole engine, loads on
first use of its names.
"""

from .executors import EXECUTORS, RAY_ADDRESS_ENV
from .keys import job_key

RUNNER_NAMES = ("Job", "JobFailed", "JobRunner", "jobs_dir")

__all__ = ["EXECUTORS", "RAY_ADDRESS_ENV", "job_key", *RUNNER_NAMES]


def __getattr__(name: str):
    if name in RUNNER_NAMES:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
