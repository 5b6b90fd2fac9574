"""Where jobs run. Each executor has a `capacity` (jobs at once) and `new_slot()`: something with
`submit(fn, *args) -> concurrent.futures.Future`, to which the runner gives one job at a time.

- `inline`: one thread in this process (tests, debugging).
- `local`: worker processes, one per core by default, each with one torch thread, so that the
  workers do not oversubscribe the CPU. Each worker is its own one-process pool: a worker that
  crashes takes down only its own job, and is replaced.
- `ray`: tasks on a Ray cluster (`address`, or $MIA_RAY_ADDRESS, or a local instance), one CPU each; a cluster
  that refuses this client (Ray's token authentication) or does not answer is reported in one line (`check_cluster`).
"""

import ctypes
import multiprocessing
import multiprocessing.forkserver
import os
import socket
import sys
import threading
import types
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

EXECUTORS = ("local", "inline", "ray")
RAY_ADDRESS_ENV = "MIA_RAY_ADDRESS"
ROOT = Path(__file__).resolve().parents[2]  # the project: what a Ray worker needs to import mia_core and read assets/


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_setup() -> None:
    """A worker's initializer. One thread for each thread pool (`one_thread_each`): at LeNet's batch sizes, one
    model per core trains faster than several threads on one model, and gives the same numbers however many
    workers run. A lower CPU priority: the server answering queries (and drawing pages) goes first, training takes
    the rest."""
    one_thread_each()
    os.nice(10)
    keep_freed_memory()


# Read by the BLAS and OpenMP libraries under numpy, SciPy, scikit-learn and torch when each loads: one thread each.
ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def one_thread_each() -> None:
    """One thread, from now on, for every thread pool of this process: torch's, and those of the BLAS and OpenMP
    libraries under numpy, SciPy and scikit-learn, which otherwise start one thread per core each. An attack's fit
    multiplies its matrices in numpy: with a worker on each core, a second thread of each only contends for the
    cores. The libraries loaded from now on read `ONE_THREAD_ENV`; those loaded already are told (threadpoolctl).
    A process that loads them after setting `ONE_THREAD_ENV` (the model workers' server) is best: told later,
    OpenBLAS starts a thread pool, whose threads spin for a while (about 0.2 CPU seconds)."""
    import torch
    from threadpoolctl import threadpool_limits

    os.environ.update(ONE_THREAD_ENV)
    torch.set_num_threads(1)
    threadpool_limits(limits=1)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt(3)'s parameter numbers, from glibc's malloc.h
MMAP_THRESHOLD = 32 << 20  # the largest glibc accepts on 64-bit: a stack of 4 LeNets' activations are ~5 MB each


def keep_freed_memory() -> None:
    """Let glibc's malloc keep the memory a training step frees for the next step. By default, an allocation from
    128 KiB up may come straight from the kernel and go back to it when freed (the threshold moves as the process
    runs), so each step's activations can come as fresh pages, each zeroed by the kernel on a page fault
    (`python -m benchmarks.freed_memory` counts them, and the models/s, both ways). No-op where the C library has
    no `mallopt` (not glibc)."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None) if os.name == "posix" else None
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        mallopt(M_TRIM_THRESHOLD, 1 << 30)  # what sits free at the top of the heap goes back above 1 GiB only


# torch and the training code, then one tiny training run to compile oneDNN's kernels (`model_server`)
MODEL_WORKER_IMPORTS = ["mia_core.jobs.model_server"]


def model_worker_context():
    """Processes that train models for one job (`model_pool.ProcessPool`) fork from a server process that
    imported torch and the training code once and trained one tiny model, rather than each doing so anew (most of
    a spawned process's start, and its first model's). The server runs torch on one thread only, so that its
    children start with no thread pool to inherit."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(MODEL_WORKER_IMPORTS)
    return context


def start_model_worker_server() -> None:
    """Start that server now, so that its imports run beside the caller's own (the command line's first step)."""
    model_worker_context()
    multiprocessing.forkserver.ensure_running()


@contextmanager
def without_the_callers_script() -> Iterator[None]:
    """Processes started inside do not run this process's `__main__` script first. A spawned process (and the
    forkserver) runs the file of its parent's `__main__` module before any task; in a Streamlit server that module is
    the page being run (in a test, AppTest's script), which would run again, outside its session, in every worker.
    The tasks are importable by name (`execute`, the model workers' own), so a worker needs nothing from it."""
    main = sys.modules["__main__"]
    if getattr(main, "__spec__", None) is not None or getattr(main, "__file__", None) is None:
        yield  # `python -m ...`, or no file: a new process runs no script
        return
    bare = sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if sys.modules["__main__"] is bare:  # a page run may have set its own meanwhile
            sys.modules["__main__"] = main


class WorkerPool(ProcessPoolExecutor):
    """A process pool whose processes, started as tasks are submitted, skip the caller's `__main__` script."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with without_the_callers_script():
            return super().submit(fn, *args, **kwargs)


class InlineExecutor:
    capacity = 1

    def __init__(self):
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mia-job")

    def new_slot(self) -> ThreadPoolExecutor:
        return self._thread

    def shutdown(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


class LocalExecutor:
    """One-process pools: the runner gives each at most one job at a time."""

    def __init__(self, workers: int | None = None):
        self.capacity = available_cores() if workers is None else workers
        if self.capacity < 1:
            raise ValueError(f"workers must be at least 1, got {self.capacity}")
        self._pools: list[ProcessPoolExecutor] = []
        # At exit, concurrent.futures waits for running jobs to finish, so a server would hang for as long as
        # the slowest one. A killed job leaves nothing behind: stop the workers first. (Hooks registered there
        # run in reverse order, so this one runs before concurrent.futures' own.)
        threading._register_atexit(self.shutdown)

    def new_slot(self) -> ProcessPoolExecutor:
        pool = WorkerPool(max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=worker_setup)
        self._pools.append(pool)
        return pool

    def shutdown(self) -> None:
        """Stop every worker now, its job unfinished (no result is written for it)."""
        for pool in self._pools:
            processes = list((pool._processes or {}).values())  # the pool's own table: no public way to stop one
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()


class RayClusterError(ValueError):
    """A Ray cluster that cannot be used as configured; the message says what to set."""


LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # 0: Ray keeps a loopback address rather than replacing it
PROBE_SECONDS = 5.0  # the most a client waits for a cluster's head node to accept a connection


def check_cluster(address: str) -> None:
    """Whether this client can use the Ray cluster at `address` (host:port), in seconds: where `ray.init` would retry
    for 20 s or more and then raise a ConnectionError that does not say why, raise `RayClusterError` saying what to
    set. Ray 2.60's token authentication: a client needs RAY_AUTH_MODE=token, and the cluster's token in
    RAY_AUTH_TOKEN, in a file named by RAY_AUTH_TOKEN_PATH, or in ~/.ray/auth_token."""
    from ray._private import ray_constants
    from ray._raylet import GcsClient
    from ray.exceptions import AuthenticationError

    host, _, port = address.rpartition(":")
    if host in LOOPBACK and ray_constants.ENABLE_RAY_CLUSTER:
        raise RayClusterError(f"a Ray cluster at {address} needs {CLUSTER_ENV}=0 (else Ray replaces the loopback "
                              "address with this machine's network address)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
    except (OSError, ValueError):
        raise RayClusterError(f"no Ray cluster answers at {address}: start its head node with `ray start --head "
                              f"--port {port}`, or give --ray-address HOST:PORT") from None
    try:
        with stderr_silenced():  # Ray's C++ client logs each refused try there; the exception says why
            GcsClient(address=address)
    except AuthenticationError:
        if os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
            raise RayClusterError(f"the Ray cluster at {address} refused this client's token: set RAY_AUTH_TOKEN "
                                  "to its token (`ray get-auth-token` on its head node)") from None
        raise RayClusterError(f"the Ray cluster at {address} uses token authentication: set RAY_AUTH_MODE=token "
                              "and RAY_AUTH_TOKEN to its token (`ray get-auth-token` on its head node)") from None


@contextmanager
def stderr_silenced() -> Iterator[None]:
    """File descriptor 2 goes to /dev/null meanwhile (what native code writes there too)."""
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class RayExecutor:
    """Jobs as Ray tasks, one CPU each. Their progress files reach the runner where the workers share its disk."""

    def __init__(self, address: str | None = None):
        address = address or os.environ.get(RAY_ADDRESS_ENV)
        if address and address.rsplit(":", 1)[0] in LOOPBACK:
            os.environ.setdefault(CLUSTER_ENV, "0")  # read when Ray is imported: a cluster on this machine alone
        try:
            import ray
        except ImportError:
            raise ValueError("the ray executor needs Ray: pip install ray==2.60.0") from None
        self._ray = ray
        if not ray.is_initialized():
            if address:
                check_cluster(address)
            # A cluster's workers get the project (code and embedded data) as their working directory.
            env = {"working_dir": str(ROOT), "excludes": [".git", ".venv", "model_store", "results"]}
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     runtime_env=env if address else None)
        self.capacity = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = {}

    def new_slot(self) -> "RayExecutor":
        return self  # Ray schedules; the runner only keeps at most `capacity` jobs in flight

    def submit(self, fn, *args) -> Future:
        if fn not in self._remote:
            self._remote[fn] = self._ray.remote(num_cpus=1)(fn)
        return self._remote[fn].remote(*args).future()

    def shutdown(self) -> None:
        pass  # a local instance ends with the process; a cluster is not ours to stop


def make_executor(name: str, *, workers: int | None = None, address: str | None = None):
    if name == "local":
        return LocalExecutor(workers)
    if name == "inline":
        return InlineExecutor()
    if name == "ray":
        return RayExecutor(address)
    raise ValueError(f"unknown executor {name!r}; choose one of {list(EXECUTORS)}")
