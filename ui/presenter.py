"""Presenter mode's guided story: one idea per screen, Next and Back, and the room's answers live."""

from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from mia_core.service import (DEMO, Question, StoreError, deal, describe, is_undefended, read_sweep, verdicts,
                              with_interval)
from ui.game import GAME_TARGET, big, leaderboard
from ui.join import join_card, sidebar_join_card
from ui.links import LinkSettings
from ui.room import room
from ui.state import digits, loaded, service, shipped_results

SWEEP_COMMAND = ("python -m mia_core sweep --grid dropout=0,0.25,0.5 --grid weight_decay=0,1e-3,1e-2 "
                 "--out sweep.csv")
DEMO_COMMAND = "python scripts/build_demo_models.py"
GUESS_SEED = 7  # the digit the whole room judges on the "member or not" screen
# Charts for the back of the room: every label at this size in px. An axis's own font, which the app's chart theme
# sets, overrides the layout's, so each chart names it too.
BIG_FONT = 22
# Each screen fits a 1280x720 projector without scrolling: less empty space above and below the page than
# Streamlit's, and the join card's note for the presenter in ordinary type.
STORY_CSS = """<style>
.stApp [data-testid='stMainBlockContainer'] { padding-top: 3rem; padding-bottom: 1rem; }
.stApp .st-key-join [data-testid='stAlert'] p { font-size: 1rem; }
</style>"""


@dataclass(frozen=True)
class Screen:
    title: str
    text: str
    question: Question | None = None
    show: str | None = None  # what the screen shows below its text: a key of SHOWN


def join_screen() -> None:
    join_card(size=230, beside=True)


def guess_screen(reveal: bool) -> None:
    try:
        target = loaded(GAME_TARGET)
    except StoreError as err:
        st.error(f"The demo target cannot be loaded: {err}.")
        return
    dealt = deal(target, digits(), GUESS_SEED, size=2)
    left, right = st.columns([1, 2])
    left.image(big(dealt.images[0], 280), caption="a handwritten digit")
    with right:
        tally()
        if reveal:
            said = verdicts(target, digits(), dealt)
            truth = "a **member**: the model trained on it" if dealt.member[0] else "**not a member**"
            st.markdown(f"It was {truth}. The attack ({said.label}, at 1% false positives) "
                        f"{'flagged it as a member' if said.flagged[0] else 'did not flag it'}.")


def compare_screen() -> None:
    *cols, room_column = st.columns([1, 1, 1.1])
    for col, (name, kind) in zip(cols, DEMO.items()):
        try:
            summary = service().demo_summary(name)
        except StoreError as err:
            col.error(f"{name}: {err}")
            continue
        col.metric(f"{kind}: test accuracy", f"{summary.test_accuracy:.1%}", f"train {summary.train_accuracy:.1%}",
                   delta_color="off")
        if summary.shadow_auc is not None:
            col.markdown(f"shadow-attack AUC **{with_interval(summary.shadow_auc, summary.shadow_auc_ci)}**")
    with room_column:
        tally()
    st.caption(f"The shipped demo targets, built by `{DEMO_COMMAND}`; 95% intervals; an AUC of 0.5 is a coin flip.")


def defence_screen() -> None:
    path = shipped_results("sweep.csv")
    runs = read_sweep(path) if path else []
    undefended = next((r for r in runs if is_undefended(r.settings)), None)
    if not runs or undefended is None:
        st.info("No shipped sweep: run it on the Defences page.")
        return
    strongest = min(runs, key=lambda r: r.best_auc)
    figure = go.Figure()
    strongest_name = f"the strongest defence: {describe(strongest.settings)}"
    for run, name in ((undefended, "no defence"), (strongest, strongest_name)):
        figure.add_bar(x=["test accuracy", "best attack AUC"], y=[run.test_accuracy, run.best_auc], name=name,
                       text=[f"{run.test_accuracy:.1%}", f"{run.best_auc:.2f}"], textposition="outside",
                       textfont=dict(size=BIG_FONT))
    figure.update_layout(height=280, margin=dict(t=50, b=10), font=dict(size=BIG_FONT),
                         yaxis=dict(range=[0, 1.15], tickfont=dict(size=BIG_FONT)),
                         xaxis=dict(tickfont=dict(size=BIG_FONT)),
                         legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom", font=dict(size=BIG_FONT)))
    st.plotly_chart(figure, width="stretch")
    st.caption(f"From `{SWEEP_COMMAND}` (shipped in assets/results). AUC intervals: no defence "
               f"[{undefended.best_auc_ci[0]:.2f}, {undefended.best_auc_ci[1]:.2f}], {describe(strongest.settings)} "
               f"[{strongest.best_auc_ci[0]:.2f}, {strongest.best_auc_ci[1]:.2f}].")


SCREENS = [
    Screen("Join the room", "Scan the code with your phone's camera, or type the link. You will play **Beat the "
                            "attack** and answer the questions on the big screen. Nothing to install, no account: a "
                            "made-up nickname is all the leaderboard keeps.", show="join"),
    Screen("Was your record in the training data?",
           "A hospital trains a model on its patients' records. If anyone who can *ask the model questions* can tell "
           "that your record was among them, they learn that you were a patient: without ever seeing the data.\n\n"
           "A phone keyboard learns next words from what people type. If it completes \"my PIN is\" with yours, "
           "it remembers you.\n\nThat question, *was this record in the training set?*, is **membership "
           "inference**. Here the records are handwritten digits, and the model a small network that reads them."),
    Screen("Your turn: member or not?",
           "Half the digits we could show trained the model, half did not. Was this one in its training set?",
           Question("guess", "Was the digit on the big screen in the training set?", ("member", "not a member")),
           show="guess"),
    Screen("Overfitted against defended",
           "The same network, trained two ways. The overfitted one learnt a few digits by heart; the defended one "
           "saw many more, with dropout and weight decay. An attack asks both the same questions.",
           Question("leaks", "Which model gives its training digits away more?", ("overfitted", "defended")),
           show="compare"),
    Screen("A defence, and what it costs",
           "Dropout and weight decay (L2) make a model answer its training digits and new ones alike: the attack "
           "has less to go on. Does it work, and what does it cost?", show="defence"),
    Screen("Differential privacy, and checking its promise",
           "DP-SGD clips each digit's influence on training and adds noise: it *proves* that no attack can do much "
           "better than a coin flip, by a margin ε (smaller is more private).\n\nAn **audit** checks the promise from "
           "outside: hide canaries in the training set, attack, and count the right guesses. They prove a lower "
           "bound on ε; the accountant's ε is the upper one. Try both on the **Defences** page: DP-SGD on, then "
           "*Audit epsilon*."),
    Screen("Now beat the attack", "Open the link, choose a nickname, and guess which digits trained the model. "
                                  "The attack plays the same digits.", show="leaderboard"),
]
SHOWN = {"join": join_screen, "guess": lambda: guess_screen(st.toggle("Reveal the answer", key="reveal_guess")),
         "compare": compare_screen, "defence": defence_screen, "leaderboard": lambda: leaderboard()}


@st.fragment(run_every=2)
def tally() -> None:
    """The open question's answers so far, redrawn on their own."""
    counts = room().tally()
    question = room().question
    if question is None or not counts:
        return
    total = sum(counts.values())
    st.markdown(f"**The room:** {total} answer{'s' if total != 1 else ''}")
    figure = go.Figure(go.Bar(x=list(counts.values()), y=list(counts), orientation="h",
                              text=[str(v) for v in counts.values()], textposition="auto",
                              textfont=dict(size=BIG_FONT)))
    figure.update_layout(height=40 + 45 * len(counts), margin=dict(l=10, r=10, t=10, b=10), font=dict(size=BIG_FONT),
                         xaxis=dict(visible=False, range=[0, max(1, max(counts.values())) * 1.1]),
                         yaxis=dict(tickfont=dict(size=BIG_FONT)))
    st.plotly_chart(figure, width="stretch", key="tally_chart")


def story() -> None:
    """The current screen (from the URL's `step`, else this session's), with Back and Next. The link counts screens
    as the screen does, from 1: `step=3` is "3 of 7"."""
    st.html(STORY_CSS)
    if "story_step" not in st.session_state:  # the link's step opens the story once; Next and Back move it on
        link = LinkSettings()
        st.session_state["story_step"] = link.number("step", 1, len(SCREENS), 1) - 1
        link.say_what_was_refused()
    step = st.session_state["story_step"]
    screen = SCREENS[step]
    if screen.question:
        room().ask(screen.question)
    else:
        room().close()
    st.title(screen.title, anchor=False)
    back, where, forward = st.columns([1, 2, 1])
    if back.button("Back", disabled=step == 0, width="stretch", icon=":material/arrow_back:"):
        move(-1)
    where.progress((step + 1) / len(SCREENS), text=f"{step + 1} of {len(SCREENS)}")
    if forward.button("Next", disabled=step == len(SCREENS) - 1, width="stretch", type="primary",
                      icon=":material/arrow_forward:"):
        move(1)
    if screen.text:
        st.markdown(screen.text)
    if screen.show != "join":
        sidebar_join_card()
    if screen.show:
        SHOWN[screen.show]()


def move(by: int) -> None:
    st.session_state["story_step"] += by
    st.query_params["step"] = str(st.session_state["story_step"] + 1)
    st.rerun()
