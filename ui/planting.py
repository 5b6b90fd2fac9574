"""Plant your digits, the Membership page's second half: draw and label digits, choose which go into a target's
training set, train it (and the same target without them, the baseline), and see for each drawing whether the
attack flags it at 1% FPR, LiRA's picture of it, and every attack's member probability."""

import base64
import io

import numpy as np
import streamlit as st
from PIL import Image
from streamlit_drawable_canvas import st_canvas

from mia_core.service import (LABELS, MAX_DRAWINGS, Drawings, EmptyDrawing, PlantOutcome, charts, describe_plant,
                              to_mnist, with_interval)
from ui.jobs import finished, watch
from ui.state import service

MAX_SHOWN = MAX_DRAWINGS  # 20 planted and 20 kept out give a coin-flip band about half as wide as 5 and 5
PRIVATE = ("Your drawings and the target trained on them belong to this browser session only: they are not "
           "written to the model store, to the shared data or to any file, and no other session can see them. "
           "**Forget my drawings** deletes them, as does closing this tab.")


def png(image: np.ndarray, size: int = 56) -> str:
    """A 28x28 digit as a data URL, for an image column."""
    buffer = io.BytesIO()
    Image.fromarray(image).resize((size, size), Image.NEAREST).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def drawn(canvas) -> np.ndarray | None:
    """The canvas's digit as the target would learn it (uint8 [28, 28]), or None while it is empty."""
    try:
        return to_mnist(canvas.image_data)
    except EmptyDrawing:
        return None


def add_drawing(drawings: list[dict], image: np.ndarray | None, label, planted: bool) -> None:
    if image is None:
        st.error("Draw a digit in the black square first.")
        return
    if label is None:
        st.error("Say which digit you drew: the target learns it under that label.")
        return
    drawings.append({"image": image, "label": int(label), "planted": planted})
    st.session_state["plant_canvas"] = st.session_state.get("plant_canvas", 0) + 1  # a fresh, empty canvas
    st.rerun()


def draw_and_label(drawings: list[dict]) -> None:
    turn = st.session_state.get("plant_canvas", 0)
    canvas = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=280, width=280,
                       drawing_mode="freedraw", return_image_data=True, key=f"plant_canvas_{turn}")
    image = drawn(canvas)
    if image is not None:
        st.image(Image.fromarray(image).resize((56, 56), Image.NEAREST), caption="what the target would learn")
    label = st.selectbox("Which digit is it?", list(range(10)), index=None, placeholder="choose 0-9",
                         key=f"plant_label_{turn}")
    full = len(drawings) >= MAX_SHOWN
    plant, keep = st.columns(2)
    if plant.button("Plant it", disabled=full, help="into the target's training set", width="stretch"):
        add_drawing(drawings, image, label, True)
    if keep.button("Keep it out", disabled=full, help="never trained on: your own non-member", width="stretch"):
        add_drawing(drawings, image, label, False)
    if full:
        st.caption(f"{MAX_SHOWN} drawings: that is the most one target takes here.")
    st.caption("Or start from the sample drawings: digits 0-9 planted, and 0-9 again by other hands kept out.")
    if st.button("Use the sample drawings"):
        sample = service().shipped_drawings()
        drawings[:] = [{"image": image, "label": int(label), "planted": bool(planted)}
                       for image, label, planted in zip(sample.images, sample.labels, sample.planted)]
        st.session_state.pop("plant_result", None)
        st.rerun()


def show_drawings(drawings: list[dict]) -> None:
    """Each drawing with its digit; the checkbox moves it between planted and kept out."""
    for start in range(0, len(drawings), 5):
        for col, (i, d) in zip(st.columns(5), enumerate(drawings[start:start + 5], start)):
            col.image(Image.fromarray(d["image"]).resize((56, 56), Image.NEAREST), caption=f"#{i + 1}: a {d['label']}")
            d["planted"] = col.checkbox("planted", d["planted"], key=f"plant_flag_{i}_{id(d)}")


def show_result(outcome: PlantOutcome, drawings: list[dict]) -> None:
    t, b = outcome.target, outcome.baseline_target
    st.markdown(f"**Your target** trained on the overfit demo's {outcome.config.train_size} members and your "
                f"{outcome.planted} planted drawings: test accuracy {t.test_accuracy:.1%}; it names "
                f"{t.planted_accuracy:.0%} of your planted and {t.kept_out_accuracy:.0%} of your kept-out "
                f"drawings right. **The baseline**, the same target trained without any of your drawings: test "
                f"accuracy {b.test_accuracy:.1%}. Both trained in {outcome.seconds['targets']:.0f} s; the "
                f"attacker's models: {outcome.attacker}.")
    for line in describe_plant(outcome, LABELS):
        st.markdown(line)
    names = list(outcome.attacks)

    def mean(attack: str, planted: bool) -> str:
        chosen = [d.member_probability[attack] for d in outcome.drawings if d.planted == planted]
        return f"{np.mean(chosen):.3f}"

    st.table([{"attack": LABELS.get(a, a), "planted: mean P(member)": mean(a, True),
               "kept out: mean P(member)": mean(a, False),
               "AUC, planted vs kept out [95%]": with_interval(m.auc, m.auc_ci)}
              for a, m in outcome.attacks.items()])
    st.markdown("**The baseline**: the same drawings scored on the same target trained without any of them. A fair "
                "test sits in the coin-flip band here; planted drawings that stand out above do so by membership.")
    st.table([{"attack": LABELS.get(a, a), "AUC with your drawings planted [95%]": with_interval(m.auc, m.auc_ci),
               "baseline AUC (target without them) [95%]": with_interval(outcome.baseline_attacks[a].auc,
                                                                        outcome.baseline_attacks[a].auc_ci)}
              for a, m in outcome.attacks.items()])
    low, high = outcome.chance_band
    st.caption(f"With {outcome.planted} planted and {outcome.kept_out} kept-out drawings, a coin "
               f"flip's AUC falls between {low:.2f} and {high:.2f} 95% of the time for one attack chosen beforehand; "
               f"for the best of {outcome.best_of} attacks, up to {outcome.chance_band_best_of[1]:.2f}. More drawings "
               "narrow it.")
    verdict = outcome.verdict_attack

    def said(flag: bool | None) -> str:
        return "—" if flag is None else ("flagged" if flag else "not flagged")

    st.dataframe([{"drawing": png(d["image"]), "digit": r.label, "role": "planted" if r.planted else "kept out",
                   "predicted": r.predicted,
                   f"verdict ({LABELS.get(verdict, verdict)}, 1% FPR)": said(r.flagged.get(verdict)),
                   "verdict on the baseline": said(r.baseline_flagged.get(verdict)),
                   **{LABELS.get(a, a): round(r.member_probability[a], 3) for a in names}}
                  for d, r in zip(drawings, outcome.drawings)],
                 column_config={"drawing": st.column_config.ImageColumn("drawing")}, hide_index=True)
    pictured = [i for i, r in enumerate(outcome.drawings) if r.lira is not None]
    if pictured:
        with st.expander("LiRA's picture of each drawing"):
            i = st.selectbox("Drawing", pictured, key="plant_picture",
                             format_func=lambda i: f"#{i + 1}: a {outcome.drawings[i].label}, "
                                                   + ("planted" if outcome.drawings[i].planted else "kept out"))
            r = outcome.drawings[i]
            st.plotly_chart(charts.lira_figure(r.lira, target="with your drawings",
                                                also={"baseline": r.baseline_lira_target}),
                            width="stretch", config={"displayModeBar": False})
            st.caption("Blue ticks: the attacker's reference models, none of which saw your drawing. Black line: the "
                       "confidence on it of the target trained with your planted drawings; dashed: the baseline's, "
                       "trained without them. A planted drawing the target memorised sits far right of the blue curve.")
    with st.expander("Every attack's member probability per drawing"):
        st.plotly_chart(charts.planted_against_kept_out(outcome.drawings), width="stretch")


def plant_panel() -> None:
    st.caption("Draw a digit, say which it is, and plant it in a target's training set or keep it out. Then train: "
               "the target learns the overfit demo's digits and your planted ones, and every attack tries to tell "
               "which of your drawings it trained on. Keep out the **same digits** you plant (a 3 planted, another "
               "3 kept out): with different digits on each side an attack partly tells digits apart, not members. "
               "The baseline, the same target trained without any drawing, shows where a fair test sits. " + PRIVATE)
    drawings = st.session_state.setdefault("plant_drawings", [])  # this session's: image, label, planted
    left, right = st.columns([1, 2])
    with left:
        draw_and_label(drawings)
    with right:
        if not drawings:
            st.info("No drawings yet: draw one on the left, then press Plant it or Keep it out.")
        show_drawings(drawings)
        kinds = {d["planted"] for d in drawings}
        go = st.button("Train a target with my planted digits", type="primary", disabled=kinds != {True, False},
                       help="Needs at least one planted drawing and one kept out.")
        if drawings and st.button("Forget my drawings"):
            for key in ("plant_drawings", "plant_result"):
                st.session_state.pop(key, None)
            st.rerun()
    if go:
        snapshot = [dict(d) for d in drawings]
        try:
            job = service().submit_plant(Drawings.of([d["image"] for d in snapshot], [d["label"] for d in snapshot],
                                                     [d["planted"] for d in snapshot]))
        except ValueError as err:
            st.error(f"Cannot plant these drawings: {err}")
        else:
            watch("plant", job, "Training a target with your planted digits", about=snapshot)
    if (done := finished("plant")) and done.ok:
        st.session_state["plant_result"] = (PlantOutcome.from_json(done.result), done.about)
    if "plant_result" in st.session_state:
        show_result(*st.session_state["plant_result"])
