"""Beat the attack: guess which digits trained the model, against an attack at its 1%-FPR threshold."""

import streamlit as st

from ui.game import DEFINITION, leaderboard, nickname_box, play, room_question
from ui.state import inside_the_app

inside_the_app()

st.title("Beat the attack")
st.caption(DEFINITION)
room_question()
nickname_box()
play()
leaderboard()
