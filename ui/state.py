"""The server's shared, read-only resources (the service, its data, loaded models), cached once per server."""

from pathlib import Path

import streamlit as st

from mia_core.service import LoadedTarget, Service

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


def shipped_results(name: str) -> Path | None:
    """A results file shipped in assets/results/ (sweeps and tables from the command line), if there is one."""
    path = SHIPPED_RESULTS / name
    return path if path.is_file() else None


@st.cache_resource(show_spinner="Loading MNIST and starting the job runner…")
def service() -> Service:
    """One per server: every session shares its data, its model store and its job runner (settings:
    $MIA_EXECUTOR, $MIA_WORKERS, $MIA_RAY_ADDRESS, $MIA_DATA_DIR, $MIA_STORE_DIR)."""
    return Service()


def digits():
    return service().digits


@st.cache_resource(show_spinner="Loading the model and fitting its attack models on the stored shadow outputs…",
                   max_entries=8)
def _loaded(name: str, version: str) -> LoadedTarget:
    return service().load(name)


def loaded(name: str) -> LoadedTarget:
    """A stored target with its fitted attacks, loaded again only when the stored model changes."""
    return _loaded(name, service().stamp(name))
