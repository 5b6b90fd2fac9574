"""The server's shared resources (the service, its data, loaded models), cached once per server, and each
session's view of them."""

from pathlib import Path

import streamlit as st

from mia_core.service import LoadedTarget, Service, check_workspace
from ui.room import WORKSPACE_PARAM, player, presenting

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
def server() -> Service:
    """One per server: every session shares its data, its model store and its job runner (settings:
    $MIA_EXECUTOR, $MIA_WORKERS, $MIA_RAY_ADDRESS, $MIA_DATA_DIR, $MIA_STORE_DIR)."""
    return Service()


def workspace() -> str:
    """Where this session's own models are kept apart: the one its URL names (after a reload, or a link the
    attendee kept), else a random name, or one the attendee chose (to find their models again in another
    session). Written into the URL, which then keeps it across reloads."""
    if "workspace" not in st.session_state:
        try:
            st.session_state["workspace"] = check_workspace(st.query_params.get(WORKSPACE_PARAM, ""))
        except ValueError:  # none, or not a workspace's name
            st.session_state["workspace"] = player()
    if st.query_params.get(WORKSPACE_PARAM) != st.session_state["workspace"]:
        st.query_params[WORKSPACE_PARAM] = st.session_state["workspace"]
    return st.session_state["workspace"]


def keep_workspace() -> None:
    """On every page of an attendee's session, the URL names its workspace (the presenter has none)."""
    if not presenting():
        workspace()


def use_workspace(text: str) -> None:
    st.session_state["workspace"] = check_workspace(text)
    st.query_params[WORKSPACE_PARAM] = st.session_state["workspace"]


def service() -> Service:
    """The server's service as this session sees it: the shared models and this session's own (the presenter
    sees the shared ones only, and publishes them)."""
    return server().for_session(None if presenting() else workspace())


def digits():
    return server().digits


@st.cache_resource(show_spinner="Loading the model and fitting its attack models on the stored shadow outputs…",
                   max_entries=8)
def _loaded(stored: str, version: str) -> LoadedTarget:
    return server().load(stored)


def loaded(name: str) -> LoadedTarget:
    """A stored target (as this session names it) with its fitted attacks, loaded again only when the stored
    model changes."""
    view = service()
    return _loaded(view.store.stored(name), view.stamp(name))


def workspace_box() -> None:
    """Whose models this session trains: the presenter's shared ones, or its own workspace's (which it may rename,
    to find its models again in another session)."""
    if presenting():
        st.caption("Presenter: what you train here is shared with the room; attendees' own models stay theirs.")
        return
    with st.expander(f"Your models are yours: workspace **{workspace()}**"):
        st.caption("What you train here is kept for your workspace only: no one else sees it, and your names never "
                   "clash with theirs. This page's address keeps it (`ws=` in the link): a reload finds your models "
                   "again, and so does the same workspace typed in a new session. Keep that part out of a link you "
                   "pass on.")
        text = st.text_input("Workspace", workspace(), max_chars=12)
        if text != workspace():
            try:
                use_workspace(text)
                st.rerun()
            except ValueError as err:
                st.error(f"{err}.")
