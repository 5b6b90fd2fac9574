"""The job runner: identical requests share one job, results are kept under their key, a killed worker
leaves nothing behind, and every executor gives the same numbers for the same seed."""

import os
import signal
import time

import pytest

from mia_core.config import ExperimentConfig, TrainConfig
from mia_core.jobs import JobFailed, JobRunner, job_key


def experiment(digits, *, epochs: int = 3, seed: int = 0) -> dict:
    cfg = ExperimentConfig(train_size=100, shadows=1, seed=seed, test_size=500, non_members=500,
                           attacks=("loss", "shadow"), train=TrainConfig(epochs=epochs, device="cpu"))
    return {"config": cfg.to_dict(), "data": {"dir": None, "fingerprint": digits.fingerprint}}


def wait_until(condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_a_key_names_the_whole_configuration(digits):
    assert job_key("experiment", experiment(digits)) == job_key("experiment", experiment(digits))
    assert job_key("experiment", experiment(digits)) != job_key("experiment", experiment(digits, seed=1))
    assert job_key("experiment", experiment(digits)) != job_key("audit", experiment(digits))


def test_identical_requests_share_one_job_and_its_kept_result(tmp_path, digits):
    runner = JobRunner(tmp_path, executor="inline")
    first, second = runner.submit("experiment", experiment(digits)), runner.submit("experiment", experiment(digits))
    assert first is second  # two sessions asking for the same run wait on the same job
    result = first.result(timeout=120)
    assert not first.kept  # it ran: finished, but not a kept result
    assert runner.result_path(first.key).is_file()
    runner.shutdown()

    again = JobRunner(tmp_path, executor="inline").submit("experiment", experiment(digits))
    assert again.kept and again.result() == result  # answered at once from the kept result, by a new runner


def test_jobs_wait_their_turn_and_say_where_they_stand(tmp_path, digits):
    runner = JobRunner(tmp_path, executor="inline")  # one slot
    jobs = [runner.submit("experiment", experiment(digits, seed=s)) for s in range(3)]
    assert [job.place() for job in jobs] == [0, 1, 2]  # the first runs, the others queue in order
    wait_until(lambda: jobs[0].progress() is not None)
    assert jobs[0].progress().stage in ("target + shadow 1/1", "attacks")  # the two train side by side
    for job in jobs:
        job.result(timeout=120)
    assert [job.place() for job in jobs] == [0, 0, 0]
    runner.shutdown()


def test_a_failing_job_keeps_nothing_and_says_why(tmp_path, digits):
    runner = JobRunner(tmp_path, executor="inline")
    params = experiment(digits)
    params["data"]["fingerprint"] = "not these digits"
    job = runner.submit("experiment", params)
    with pytest.raises(JobFailed, match="not the data this job was submitted with .*ValueError"):
        job.result(timeout=60)
    assert not runner.result_path(job.key).exists() and not runner.progress_path(job.key).exists()
    with pytest.raises(ValueError, match="unknown task 'train_everything'"):
        runner.submit("train_everything", params)


@pytest.mark.slow
def test_a_killed_worker_leaves_nothing_and_the_next_job_runs(tmp_path, digits):
    runner = JobRunner(tmp_path, executor="local", workers=1)
    doomed = runner.submit("experiment", experiment(digits, epochs=400))
    waiting = runner.submit("experiment", experiment(digits))
    wait_until(lambda: (doomed.progress() or None) is not None, timeout=120)
    pid = __import__("json").loads(runner.progress_path(doomed.key).read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(JobFailed, match="died"):
        doomed.result(timeout=60)
    assert not runner.result_path(doomed.key).exists() and not runner.progress_path(doomed.key).exists()
    waiting.result(timeout=180)  # a fresh worker took the queued job, and kept its result
    assert runner.result_path(waiting.key).is_file()
    runner.shutdown()


@pytest.mark.slow
def test_the_same_seed_gives_the_same_numbers_on_every_executor(tmp_path, digits):
    pytest.importorskip("ray")
    import ray

    runners, jobs = {}, {}
    try:  # the same job on the three at once
        for executor, workers in (("local", 1), ("inline", 1), ("ray", None)):
            runners[executor] = JobRunner(tmp_path / executor, executor=executor, workers=workers)
            jobs[executor] = runners[executor].submit("experiment", experiment(digits, epochs=5))
        results = {executor: job.result(timeout=300) for executor, job in jobs.items()}
    finally:
        for runner in runners.values():
            runner.shutdown()
        ray.shutdown()
    figures = {name: (r["target"]["test_accuracy"], r["attacks"]["loss"]["auc"], r["attacks"]["shadow"]["auc"])
               for name, r in results.items()}
    assert figures["inline"] == figures["local"] == figures["ray"], figures


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="page faults are counted from Linux's /proc")
@pytest.mark.slow
def test_a_worker_keeps_the_memory_a_training_step_frees(digits):
    """Worker processes train with freed memory kept in the heap: training the same stack again then needs no
    fresh pages from the kernel (by default glibc may hand each ~5 MB activation back and fault it in anew:
    `python -m benchmarks.freed_memory` counts both)."""
    import resource

    import numpy as np

    from mia_core.jobs.executors import keep_freed_memory
    from mia_core.training.stacked import train_stacked

    keep_freed_memory()
    cfg, data = TrainConfig(epochs=2, device="cpu"), [digits.tensors(np.arange(k, 2000, 10)[:200]) for k in range(4)]
    train_stacked(cfg, data, [0, 1, 2, 3])  # the heap grows to what a step needs
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    train_stacked(cfg, data, [0, 1, 2, 3])
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 1000


def thread_pools(_) -> tuple[list[tuple[str, int]], int]:
    """In a worker: each thread pool's library and thread count (threadpoolctl), and the process's threads."""
    from threadpoolctl import threadpool_info

    return [(i["internal_api"], i["num_threads"]) for i in threadpool_info()], len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="threads are counted from Linux's /proc")
def test_a_model_worker_runs_every_thread_pool_on_one_thread(digits):
    """torch's and the BLAS and OpenMP libraries under numpy, SciPy and scikit-learn: one thread each, set before
    they loaded, so no pool was started either (OpenBLAS's would spin beside the training)."""
    from mia_core.jobs.model_pool import ProcessPool

    pool = ProcessPool(2, {"dir": None, "fingerprint": digits.fingerprint})
    reports = list(pool.imap_unordered(thread_pools, [0, 1]))
    pool.shutdown()
    for pools, threads in reports:
        assert {api for api, _ in pools} >= {"openblas", "openmp"}, pools
        assert all(count == 1 for _, count in pools), pools
        assert threads == 1


def test_a_worker_does_not_run_the_callers_main_script(tmp_path, monkeypatch):
    """In a Streamlit server `__main__` is the page being run: a worker process must not run it again."""
    import multiprocessing
    import sys
    import types

    from mia_core.jobs.executors import WorkerPool

    marker = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)  # as a page run as a script leaves `__main__`: a file, no spec
    monkeypatch.setitem(sys.modules, "__main__", page)
    with WorkerPool(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(os.getpid).result(timeout=60) != os.getpid()
    assert not marker.exists()
    assert sys.modules["__main__"] is page  # the caller's own, back
