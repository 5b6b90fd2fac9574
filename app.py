"""Entry point: `streamlit run app.py`. Multipage navigation over the files in pages/.

`?present=1` on any page opens presenter mode (large type, the guided story, the join card); attendee mode
($MIA_ATTENDEE_MODE=1, `streamlit run app.py -- --attendees`, or `?attendee=1`) hides the research pages."""

import streamlit as st

from ui.join import sidebar_join_card
from ui.room import big_type, presenting, research_hidden
from ui.state import keep_workspace

st.set_page_config(page_title="Membership inference on MNIST", page_icon=":material/search:", layout="wide")

presenter, research = presenting(), not research_hidden()
story = st.Page("pages/present.py", title="Presenter", icon=":material/co_present:", default=presenter)
pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=not presenter),
    st.Page("pages/game.py", title="Beat the attack", icon=":material/sports_esports:"),
    *([st.Page("pages/targets.py", title="Targets", icon=":material/target:"),
       st.Page("pages/attack.py", title="Attack", icon=":material/swords:")] if research else []),
    st.Page("pages/membership.py", title="Membership test", icon=":material/draw:"),
    st.Page("pages/defences.py", title="Defences", icon=":material/shield:"),
    *([st.Page("pages/experiments.py", title="Experiments", icon=":material/table_chart:")] if research else []),
]
navigation = st.navigation([story, *pages] if presenter else pages)
keep_workspace()
if presenter:
    big_type()
    if navigation is not story:
        sidebar_join_card()
navigation.run()
