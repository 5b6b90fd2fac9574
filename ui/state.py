"""Cached, shared, read-only resources (data, store, loaded models) and progress display."""

import os
from pathlib import Path

import streamlit as st

from mia_core.data import load_digits
from mia_core.progress import Progress
from mia_core.store import ModelStore, StoreError, default_store
from mia_core.workflows import LoadedTarget, load_with_attacks


SHIPPED_RESULTS = Path(__file__).resolve().parent.parent / "assets" / "results"


def inside_the_app() -> None:
    """Run this page inside app.py's navigation, even when its link is the first request a fresh server gets.

    Streamlit treats a `pages/` folder beside the main script as a legacy multipage app until
    `st.navigation` has run once in the process; a page's URL as the very first request therefore runs
    the page alone, with a sidebar of file names. Clearing that flag and rerunning runs app.py, whose
    navigation opens the same URL's page. (Streamlit 1.67: `PagesManager.uses_pages_directory`, which
    only `st.navigation` clears.) AppTest, whose runtime is a mock, runs pages this legacy way on purpose
    (`switch_page`): there the page simply runs."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.pages_manager import PagesManager

    served = Runtime.exists() and type(Runtime.instance()) is Runtime
    if served and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def results_path(name: str) -> Path:
    """Where a page writes a results file (results/ or $MIA_RESULTS_DIR)."""
    return Path(os.environ.get("MIA_RESULTS_DIR", "results")) / name


def readable_results(name: str) -> Path | None:
    """The newest results to show: this machine's own, else the ones shipped in assets/results/."""
    for path in (results_path(name), SHIPPED_RESULTS / name):
        if path.is_file():
            return path
    return None


def display_path(path: Path) -> str:
    """A path as a user would type it from the app's folder."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@st.cache_resource(show_spinner="Loading MNIST…")
def digits():
    return load_digits()


@st.cache_resource
def store() -> ModelStore:
    return default_store()


def stamp(name: str) -> str:
    """Changes whenever the stored model is rewritten, so the cache below reloads it."""
    return store().meta(name)["created"] + str((store().path(name) / "meta.json").stat().st_mtime_ns)


@st.cache_resource(show_spinner="Loading the model and fitting its attack models on the stored shadow outputs…",
                   max_entries=8)
def _loaded(name: str, version: str, _fresh: LoadedTarget | None = None) -> LoadedTarget:
    # `_fresh` is not part of the cache key: passing it files an object built moments ago under (name, version).
    return _fresh if _fresh is not None else load_with_attacks(store(), name, digits())


def loaded(name: str) -> LoadedTarget:
    return _loaded(name, stamp(name))


def remember(name: str, fresh: LoadedTarget) -> None:
    """Cache a just-built target with its fitted attacks, so no page fits them again."""
    _loaded(name, stamp(name), _fresh=fresh)


class StreamlitProgress:
    """A mia_core ProgressFn drawing one progress bar; `on_event` sees every event (for live charts)."""

    def __init__(self, container, on_event=None):
        self.bar = container.progress(0.0, text="starting…")
        self.on_event = on_event

    def __call__(self, p: Progress) -> None:
        details = ", ".join(f"{k} {v:.3f}" for k, v in p.metrics.items())
        self.bar.progress(min(p.step / p.total, 1.0), text=f"{p.stage}: {p.step}/{p.total}  {details}")
        if self.on_event:
            self.on_event(p)


def attacked_targets() -> tuple[list[str], list[str]]:
    """Stored targets that have shadow models, and messages about entries that cannot be read."""
    ready, problems = [], []
    for name in store().names():
        try:
            if (store().meta(name)["shadows"] or {}).get("count"):
                ready.append(name)
        except StoreError as err:
            problems.append(str(err))
    return ready, problems
