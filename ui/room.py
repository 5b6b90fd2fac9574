"""Who is in the room: the presenter, attendees, and the server's one `Room` (leaderboard and tally).

Presenter mode is a link flag, `?present=1` on any page, kept for the rest of the session (`?present=0` leaves
it). With $MIA_PRESENTER_CODE set, only `?present=<that code>` opens it. Attendee mode hides the research
pages (Targets, Attack, Experiments): for every session when the server runs with $MIA_ATTENDEE_MODE=1 or
`streamlit run app.py -- --attendees`, for one session with `?attendee=1`; the presenter keeps every page.
"""

import os
import secrets
import sys

import streamlit as st

from mia_core.service import Room, check_workspace

PRESENTER_CODE_ENV = "MIA_PRESENTER_CODE"
ATTENDEE_ENV = "MIA_ATTENDEE_MODE"
ATTENDEE_FLAG = "--attendees"
ON = ("1", "true", "on", "yes")
WORKSPACE_PARAM = "ws"  # the page's URL keeps the session's workspace: a reload finds its models again
# Large type for the room; the sidebar's page links and join card (for the presenter, and a phone's camera) in
# ordinary type, so that the card's code stays on a 720-pixel-high screen under the links.
BIG_TYPE = """<style>
  .stApp [data-testid='stMarkdownContainer'] p, .stApp [data-testid='stMarkdownContainer'] li { font-size: 1.55rem; }
  .stApp h1 { font-size: 3.2rem !important; } .stApp h2 { font-size: 2.4rem !important; }
  .stApp h3 { font-size: 1.9rem !important; }
  .stApp [data-testid='stMetricValue'], .stApp [data-testid='stMetricValue'] * { font-size: 3rem !important; }
  .stApp [data-testid='stCaptionContainer'] { font-size: 1.15rem; }
  .stApp button p { font-size: 1.3rem; }
  .stApp [data-testid='stSidebarNavLink'] p { font-size: 1rem; }
  .stApp [data-testid='stSidebar'] .st-key-join p, .stApp [data-testid='stSidebar'] .st-key-join h3 {
    font-size: 1.1rem !important; }
</style>"""


@st.cache_resource
def room() -> Room:
    """One per server: every session reads and writes the same leaderboard and tally."""
    return Room()


def player() -> str:
    """This session's anonymous id in the room (the owner of its nickname; one answer per id): the workspace its
    URL names, so that a reload, or the same link opened again, is the same player; else a random one (which
    then names the session's workspace, in its URL)."""
    if "player" not in st.session_state:
        try:
            st.session_state["player"] = check_workspace(st.query_params.get(WORKSPACE_PARAM, ""))
        except ValueError:  # none, or not a workspace's name
            st.session_state["player"] = secrets.token_hex(4)
    return st.session_state["player"]


def presenting() -> bool:
    """Whether this session is the presenter's (see the module's note)."""
    text = st.query_params.get("present")
    if text is not None:
        code = os.environ.get(PRESENTER_CODE_ENV)
        st.session_state["presenter"] = text == code if code else text.lower() in ON
    return bool(st.session_state.get("presenter", False))


def attendee_server() -> bool:
    """The server setting: every session but the presenter's is an attendee's."""
    return os.environ.get(ATTENDEE_ENV, "").lower() in ON or ATTENDEE_FLAG in sys.argv[1:]


def research_hidden() -> bool:
    """Whether this session sees the room's pages only (the presenter always sees every page)."""
    if presenting():
        return False
    text = st.query_params.get("attendee")
    if text is not None:
        st.session_state["attendee"] = text.lower() in ON
    return attendee_server() or bool(st.session_state.get("attendee", False))


def big_type() -> None:
    st.html(BIG_TYPE)
