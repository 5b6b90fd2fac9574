"""Waiting on jobs in a page: their place in the queue, then their progress, then their results.

A page hands its jobs over with `watch(key, jobs, ...)` when it submits them, and asks `finished(key)` where their
status belongs. While they run, only that status box reruns (an `st.fragment` every REDRAW_S): the page's script is
not rerun, and the session is free to use the rest of the page. When the last one ends, the whole page reruns once,
and `finished(key)` gives the results.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from mia_core.service import Job, JobFailed, Progress, in_words

REDRAW_S = 4.0  # the status box reruns this often while its jobs run. Each rerun costs the server a fragment run
# and the browser a redraw of its page, for every waiting session; a job of minutes needs no faster bar.
WAITING = "jobs_waiting"  # session state: key -> Waiting

STILL = ("[data-testid='stExpander'] *, [data-testid='stExpander'] *::before, [data-testid='stExpander'] *::after"
         " { animation: none !important; transition: none !important; }"
         " [data-testid='stStatusWidget'] { display: none !important; }")


@dataclass
class Waiting:
    """Jobs a page waits on under one key, with what the page kept with them when it submitted them."""

    jobs: list[Job]
    labels: list[str]
    about: object = None
    on_progress: Callable[[Progress], None] | None = None  # draws inside the status box, at each of its reruns
    shared: bool = False  # someone asked for the same job a moment before this session
    kept: bool = False  # every job was answered at once from a kept result


@dataclass(frozen=True)
class Finished:
    """What `finished` gives once: each job's result (None for one that failed: the page says why), and `about`."""

    results: list[dict | None]
    about: object = None

    @property
    def result(self) -> dict | None:
        return self.results[0]

    @property
    def ok(self) -> bool:
        return None not in self.results


def watch(key: str, jobs: Job | list[Job], labels: str | list[str], *, about=None,
          on_progress: Callable[[Progress], None] | None = None) -> None:
    """Wait on `jobs` (just submitted) under `key`, in place of whatever this session waited on there before.
    `about`: anything the page needs again with the results. `on_progress(p)` draws inside the status box (a
    live curve) with the first job's latest progress, at each rerun of the box."""
    jobs = [jobs] if isinstance(jobs, Job) else list(jobs)
    labels = [labels] * len(jobs) if isinstance(labels, str) else list(labels)
    shared = any(not j.done() and time.time() - j.submitted > 1 for j in jobs)
    kept = all(j.kept for j in jobs)
    st.session_state.setdefault(WAITING, {})[key] = Waiting(jobs, labels, about, on_progress, shared, kept)


def waiting(key: str) -> bool:
    """Whether this session waits on jobs under `key` that have not all ended."""
    entry = st.session_state.get(WAITING, {}).get(key)
    return entry is not None and not all(j.done() for j in entry.jobs)


def finished(key: str, title: str | None = None) -> Finished | None:
    """Here, the status of the jobs this session waits on under `key`: None while they run (the box redraws by
    itself, and the page reruns when they end) or when nothing waits there; their results, once, when they have
    all ended. `title`: the box's label for several jobs (default: the first job's label)."""
    entry = st.session_state.get(WAITING, {}).get(key)
    if entry is None:
        return None
    if all(j.done() for j in entry.jobs):
        del st.session_state[WAITING][key]
        return _ended(entry)
    st.html(f"<style>{STILL}</style>")
    _status(key, title or entry.labels[0])
    return None


def _ended(entry: Waiting) -> Finished:
    results: list[dict | None] = []
    for job, label in zip(entry.jobs, entry.labels):
        error = job.future.exception()
        if error is None:
            results.append(job.result())
        else:
            st.error(f"{label} failed: {error}")
            results.append(None)
    if entry.kept:
        st.caption("Answered from a result kept from an identical earlier run." if len(results) == 1 else
                   f"All {len(results)} answered from results kept from identical earlier runs.")
    return Finished(results, entry.about)


@st.fragment(run_every=REDRAW_S)
def _status(key: str, title: str) -> None:
    """The box that reruns on its own while the jobs run, and reruns the page when they have ended."""
    entry = st.session_state.get(WAITING, {}).get(key)
    if entry is None:
        return
    jobs = entry.jobs
    if all(j.done() for j in jobs):
        st.rerun(scope="app")
    done = sum(j.done() for j in jobs)
    current = next(i for i, j in enumerate(jobs) if not j.done())
    job = jobs[current]
    # Not a `with` block: leaving one marks the box complete (a check mark) while the jobs still run.
    box = st.status(title if len(jobs) == 1 else f"{title}: {done} of {len(jobs)} done", expanded=True,
                    state="running")
    if entry.shared:
        box.caption("Someone asked for this same run a moment ago: you share their job.")
    if len(jobs) > 1:
        box.caption(entry.labels[current])
    place = job.place()
    box.caption(f"In the queue: number {place}, behind jobs of other sessions (every worker is busy)." if place
                else f"Running on the {job.runner.executor_name} executor.")
    progress = job.progress()
    box.progress(0.0 if progress is None else min(progress.step / progress.total, 1.0),
                 text="starting…" if progress is None else in_words(progress))
    if entry.on_progress and current == 0 and progress is not None:
        entry.on_progress(progress)
    if not _served():
        _wait_here(entry)


def _served() -> bool:
    """Whether a real server runs this session, whose browser reruns the box on its timer. AppTest's runtime (a
    mock) has no browser and reruns no fragment on its own."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime


def _wait_here(entry: Waiting) -> None:
    """Without a browser to rerun the box: wait for every job here, then rerun the page."""
    for job in entry.jobs:
        try:
            job.wait()
        except JobFailed:  # the page's rerun says why
            pass
    st.rerun(scope="app")
