"""Beat the attack: a round of digits, the attendee's guesses, the attack's verdicts at its 1%-FPR threshold,
the truth, and the room's leaderboard."""

import secrets

import numpy as np
import streamlit as st
from PIL import Image

from mia_core.service import (DEMO, ROUND_SIZE, VERDICT_FPR, Room, StoreError, deal, playing_attack,
                              score, verdicts)
from ui.room import player, presenting, room
from ui.state import digits, loaded

GAME_TARGET = next(name for name, kind in DEMO.items() if kind == "overfit")  # the demo target that leaks most
DEFINITION = ("This guessing game is the formal definition of a membership inference attack: a coin decides "
              "whether a record was trained on, and the attacker must say which (Yeom et al. 2018; Salem et al. "
              "2023, \"SoK: Let the privacy games begin\").")
MEMBER, OUTSIDER = "member", "not a member"
LEADERS = 15  # rows of the leaderboard shown
# The outcome replaces the form in place, where the page was scrolled to its send button: the score sticks to the
# top of the screen, under the app's header, from wherever that was. On a phone its two figures share one row.
SCORE_CSS = """<style>
[data-testid='stLayoutWrapper']:has(> .st-key-game_score) { position: sticky; top: 3.75rem; z-index: 999; }
.st-key-game_score { background-color: #ffffff; border-bottom: 2px solid #444; padding: 0.2rem 0 0.3rem 0; }
@media (max-width: 640px) {
  .st-key-game_score [data-testid="stHorizontalBlock"] { flex-wrap: nowrap; }
  .st-key-game_score [data-testid="stColumn"] { min-width: 0; }
  .st-key-game_score [data-testid="stMetricValue"] > div { font-size: 1.7rem; }
  .st-key-game_score [data-testid="stMetricLabel"] * { white-space: normal; }
}
</style>"""


def big(image: np.ndarray, size: int = 96) -> Image.Image:
    return Image.fromarray(image).resize((size, size), Image.NEAREST)


def game_target():
    """The overfitted demo target with its attacker's fitted attacks, or None after saying why not."""
    try:
        target = loaded(GAME_TARGET)
    except StoreError as err:
        st.error(f"The game needs the overfitted demo target, which cannot be loaded: {err}.")
        return None
    if playing_attack(target, fpr=VERDICT_FPR) is None:
        st.error("The demo target's attacker cannot set a threshold at 1% false positives.")
        return None
    return target


def round_seed() -> int:
    """This session's round, as a seed: a random start per session, one more per round."""
    start = st.session_state.setdefault("game_start", secrets.randbelow(90_000) + 10_000)
    return start + st.session_state.setdefault("game_round", 0)


def guess_form(dealt) -> list[bool] | None:
    """The round's digits with a member / not choice under each; the guesses once all are made and sent."""
    with st.form(f"guesses_{dealt.seed}"):
        st.markdown(f"**Round {st.session_state['game_round'] + 1}** (seed {dealt.seed}): half of these "
                    f"{len(dealt.index)} digits trained the model. Which?")
        choices = []
        for start in range(0, len(dealt.index), 5):
            for col, i in zip(st.columns(5), range(start, min(start + 5, len(dealt.index)))):
                col.image(big(dealt.images[i]), caption=f"digit {i + 1}", width=96)
                choices.append(col.radio(f"Digit {i + 1}", [MEMBER, OUTSIDER], index=None, key=f"g{dealt.seed}_{i}",
                                         horizontal=True, label_visibility="collapsed"))
        sent = st.form_submit_button("Show the attack's verdicts and the truth", type="primary", width="stretch")
    if not sent:
        return None
    if None in choices:
        st.error(f"Guess every digit first: {choices.count(None)} still open.")
        return None
    return [c == MEMBER for c in choices]


def show_outcome(dealt, guesses: list[bool], said, points) -> None:
    mark = {True: ":green[right]", False: ":red[wrong]"}
    st.html(SCORE_CSS)
    with st.container(key="game_score"):
        c1, c2 = st.columns(2)
        c1.metric("You", f"{points.human} / {points.total}")
        c2.metric(f"Attack: {said.label}", f"{points.attack} / {points.total}")
    for start in range(0, len(dealt.index), 5):
        for col, i in zip(st.columns(5), range(start, min(start + 5, len(dealt.index)))):
            truth = bool(dealt.member[i])
            col.image(big(dealt.images[i]), width=96)
            col.markdown(f"digit {i + 1}: **{MEMBER if truth else OUTSIDER}**")
            col.markdown(f"you: {MEMBER if guesses[i] else OUTSIDER}, {mark[guesses[i] == truth]}  \n"
                         f"attack: {'flagged' if said.flagged[i] else 'not flagged'}, "
                         f"{mark[bool(said.flagged[i]) == truth]}")
    flagged, models = int(said.flagged.sum()), "shadow" if said.attack == "shadow" else "reference"
    st.caption(f"The attack calls a digit a member only past the threshold at which {said.fpr:.0%} of its own "
               f"non-members (records its {models} models did not train on) would be called so, never tuned on "
               "this model's answers. "
               f"It flagged {flagged} of {len(dealt.index)}: a flag is strong evidence, and the members it does not "
               "flag count against it here as wrong.")


def play() -> None:
    target = game_target()
    if target is None:
        return
    dealt = deal(target, digits(), round_seed(), size=ROUND_SIZE)
    outcome = st.session_state.get("game_outcome")
    if outcome is None or outcome[0] != dealt.seed:
        guesses = guess_form(dealt)
        if guesses is None:
            return
        said = verdicts(target, digits(), dealt)
        points = score(dealt, guesses, said.flagged)
        st.session_state["game_outcome"] = (dealt.seed, guesses, said, points)
        st.session_state["game_kept"] = keep_score(points)
        st.rerun()  # the outcome in place of the form
    if st.session_state.get("game_kept"):
        st.info(st.session_state["game_kept"])
    _, guesses, said, points = outcome
    show_outcome(dealt, guesses, said, points)
    if st.button("Next round", type="primary"):
        st.session_state["game_round"] += 1
        st.rerun()


def keep_score(points) -> str | None:
    """Add the round to the leaderboard under this session's nickname; why not, if it was not added."""
    nickname = st.session_state.get("nickname", "").strip()
    if not nickname:
        return "Choose a nickname above to put your next rounds on the room's leaderboard."
    try:
        room().record(player(), nickname, human=points.human, attack=points.attack, digits=points.total)
    except ValueError as err:
        return f"Not on the leaderboard: {err}."
    return None


def as_markdown(nickname: str) -> str:
    """A nickname as Markdown text: its underscores shown, not read as italics."""
    return nickname.replace("_", r"\_")


@st.fragment(run_every=10)
def leaderboard() -> None:
    """The room's standings, redrawn on their own every few seconds."""
    st.subheader("The room's leaderboard")
    rows = room().standings()
    if not rows:
        st.caption("No rounds played under a nickname yet.")
    else:
        st.markdown("| | nickname | rounds | right guesses | the attack's |\n|---|---|---|---|---|\n" + "\n".join(
            f"| {i} | {as_markdown(r.nickname)} | {r.rounds} | {r.human}/{r.digits} | {r.attack}/{r.digits} |"
            for i, r in enumerate(rows[:LEADERS], 1)))  # a plain table: cheap to redraw in every browser
    if presenting():
        st.button("Reset the leaderboard", key="reset_leaderboard", on_click=room().reset_leaderboard)


def nickname_box() -> None:
    text = st.text_input("Your nickname (made up: no real names)", key="nickname", max_chars=20,
                         placeholder="e.g. digit-detective")
    if text.strip():
        try:
            room().claim(player(), text)
        except ValueError as err:
            st.error(f"{err}.")


@st.fragment(run_every=3)
def room_question(place: Room | None = None) -> None:
    """The presenter's open question, with one button per answer; checked again every few seconds."""
    place = place or room()
    question = place.question
    if question is None:
        return
    with st.container(border=True, key="room_question"):
        st.markdown(f"**The presenter asks:** {question.text}")
        mine = place.answer_of(player())  # a press answers in its callback, before this redraw
        for col, option in zip(st.columns(len(question.options)), question.options):
            col.button(option, key=f"answer_{question.key}_{option}", width="stretch",
                       type="primary" if option == mine else "secondary", on_click=place.answer,
                       args=(player(), question.key, option))
        if mine:
            st.caption(f"Your answer: {mine}. You can change it until the presenter moves on.")
