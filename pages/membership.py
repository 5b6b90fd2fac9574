"""Draw a digit (or pick one) and see, first, whether the strongest attack flags it as a member of each stored target
at 1% false-positive rate; then why (LiRA's picture) and every attack's figures. Or plant your own drawn digits in a
target of this session's own and see which the attacks find."""

import streamlit as st
from PIL import Image
from streamlit_drawable_canvas import st_canvas

from mia_core.service import DEMO, EmptyDrawing, StoreError, membership_report
from ui.digit_pick import picked_digit
from ui.links import LinkSettings, to_url
from ui.planting import plant_panel
from ui.state import digits, inside_the_app, loaded, service
from ui.verdict import all_attacks, canvas_hint, drawing_key, phone_layout, verdict_card, why_panel

inside_the_app()
phone_layout()
st.title("Membership test")
link = LinkSettings()
said = st.container()  # what the link gave that the page cannot show
MODES = {"test": "Test a digit", "plant": "Plant your own digits"}  # URL word -> option; one line on a phone
mode = st.radio("What to do", list(MODES.values()), horizontal=True, label_visibility="collapsed",
                index=list(MODES).index(link.choice("mode", list(MODES), "test")))
to_url(mode=next(k for k, v in MODES.items() if v == mode))
if mode == MODES["plant"]:
    link.say_what_was_refused(said)
    plant_panel()
    st.stop()
ready, problems = service().attacked_targets()
for problem in problems:
    st.warning(problem)
if not ready:
    st.info("No attacked targets yet: build the demo models on the Overview page first.")
    st.stop()
defaults = link.names("targets", ready, [n for n in DEMO if n in ready] or ready[:2])[:3]
targets = st.multiselect("Targets to compare", ready, default=defaults, max_selections=3)
if not targets:
    st.stop()
try:
    models = {n: loaded(n) for n in targets}
except StoreError as err:
    st.error(f"Cannot load a stored model: {err}")
    st.stop()

SOURCES = {"draw": "Draw one", "pick": "Pick an MNIST digit"}  # URL word -> radio option
source = st.radio("Digit", list(SOURCES.values()), horizontal=True, key="digit_source", label_visibility="collapsed",
                  index=list(SOURCES).index(link.choice("digit", list(SOURCES), "draw")))
link.say_what_was_refused(said)
to_url(targets=targets, digit=next(k for k, v in SOURCES.items() if v == source))
left, right = st.columns([1, 1])
box = right.container(key="verdict")  # the answer: beside the canvas, or below it on a phone
with left:
    if source == "Draw one":
        with st.container(key="drawing"):  # room above the canvas for its toolbar
            canvas = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=280,
                               width=280, drawing_mode="freedraw", return_image_data=True, key="canvas")
        label = st.selectbox("The digit you drew (optional: the attacks use the predicted class otherwise)",
                             [None, *range(10)], format_func=lambda v: "let the model decide" if v is None else str(v))
        try:
            reports = {n: membership_report(canvas.image_data, m.target.model, m.attacks, label=label,
                                            reference_of=lambda img, m=m: m.reference_query(digits(), image=img))
                       for n, m in models.items()}
        except EmptyDrawing as err:
            drawing_key(drawn=False)
            box.info(canvas_hint(err))
            st.stop()
        truth = {n: False for n in models}  # a drawing is in no model's training set
        record = drawing_key(drawn=True)
        st.caption("A digit you draw now was in no model's training set, the target's or the reference models': "
                   "a flag on it is a false positive, which at 1% FPR happens about once in a hundred drawings.")
    else:
        reports, truth, record = picked_digit(models)
    some = next(iter(reports.values()))
    st.image(Image.fromarray(some.image).resize((112, 112), Image.NEAREST), caption="what the model sees (28x28)")
verdict_card(box, reports, truth, record, drawn=source == "Draw one")
why_panel(reports)
all_attacks(reports)
