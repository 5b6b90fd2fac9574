"""Waiting on a job in a page: its place in the queue, then its progress, then its result."""

import time
from collections.abc import Callable

import streamlit as st

from mia_core.service import Job, JobFailed, Progress, in_words

REDRAW_S = 2.0  # the box's bar and words change at most this often within a stage: each redraw costs every browser


STILL = ("[data-testid='stExpander'] *, [data-testid='stExpander'] *::before, [data-testid='stExpander'] *::after"
         " { animation: none !important; transition: none !important; }"
         " [data-testid='stStatusWidget'] { display: none !important; }")


def wait_for(job: Job, label: str, *, on_progress: Callable[[Progress], None] | None = None,
             container=st) -> dict | None:
    """Block this session (only) until `job` is done, drawing where it stands. Returns the job's result, or
    None after showing why it failed. Leaving the page stops the waiting, not the job: anyone who asks
    for the same job again waits on it, or gets its kept result."""
    if job.done() and job.future.exception() is None:
        container.caption(f"{label}: answered from a result kept from an identical earlier run.")
        return job.result()
    # While it waits, the box's spinner and progress bar stand still between updates, and the header's running
    # figure is hidden (the box says the job runs): animated, they repaint continuously in a browser without a GPU
    # (headless Chromium, workshop_load's browsers, on the server's cores). The bar and its text still move with
    # every update.
    st.html(f"<style>{STILL}</style>")
    with container.status(label, expanded=True) as status:
        if time.time() - job.submitted > 1:
            st.caption("Someone asked for this same run a moment ago: you share their job.")
        line, bar = st.empty(), st.progress(0.0, text="starting…")
        shown = {"place": None, "stage": None, "at": 0.0}

        def waiting(j: Job) -> None:  # redrawn only when the place changes: every redraw costs each browser
            place = j.place()
            if place != shown["place"]:
                shown["place"] = place
                line.caption(f"In the queue: number {place}, behind jobs of other sessions (every worker is busy)."
                             if place else f"Running on the {j.runner.executor_name} executor.")

        def progress(p: Progress) -> None:  # the stage in words and a bar; redrawn at once for a new stage only
            now = time.monotonic()
            if p.stage != shown["stage"] or p.step >= p.total or now - shown["at"] >= REDRAW_S:
                bar.progress(min(p.step / p.total, 1.0), text=in_words(p))
                shown["stage"], shown["at"] = p.stage, now
            if on_progress:
                on_progress(p)

        try:
            result = job.wait(progress, on_wait=waiting, poll=1.0)
        except JobFailed as err:
            status.update(label=f"{label}: failed.", state="error")
            container.error(f"{label} failed: {err}")
            return None
        status.update(label=f"{label}: done.", state="complete")
    return result
