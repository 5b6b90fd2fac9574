"""Toggle defences on the overfitted target and watch the attacks fall back towards a coin flip."""

from dataclasses import replace

import streamlit as st

from mia_core.service import LABELS, DefenceRun, ExperimentConfig, preset
from ui.defences import runs_panel, shipped_sweeps, sweep_panel, trade_off
from ui.jobs import finished, watch
from ui.links import LinkSettings, to_url
from ui.panels import audit_panel
from ui.state import inside_the_app, service

inside_the_app()

LABEL_ONLY = ("label_only", "label_only_noise")
L2_VALUES = [0.0, 1e-4, 1e-3, 5e-3, 1e-2, 5e-2]
BASE = preset("overfit")  # every defence is measured at the overfitted target's training-set size
SPLIT = preset("split")  # the same 200 members; 20 sub-models of 40 epochs and 4 shadows keep a run near a minute
DP = preset("dp")  # DP-SGD's own recipe: on the overfit preset's 200 digits it ends at chance

st.title("Defences")
st.caption(f"Each run trains a target like the overfitted preset ({BASE.train_size} digits, {BASE.train.epochs} epochs) "
           "with the defences below, trains its shadows the same way, and attacks it with "
           f"{', '.join(LABELS[a] for a in BASE.attacks if a != 'seed_in_sample')}. DP-SGD trains with the dp preset's "
           f"recipe instead ({DP.train_size} digits, {DP.train.epochs} epochs, {DP.train.arch}), which gives a usable "
           "model under DP.")
link = LinkSettings()  # the settings a shared link opens with
said = st.container()  # what the link gave that the form cannot take, above the form
with st.form("defend"):
    c1, c2, c3 = st.columns(3)
    dropout = c1.slider("Dropout", 0.0, 0.8, link.number("dropout", 0.0, 0.8, 0.0, step=0.05), 0.05)
    weight_decay = c1.select_slider("L2 weight decay", L2_VALUES, link.choice("weight_decay", L2_VALUES, 0.0))
    smoothing = c2.slider("Label smoothing", 0.0, 0.8, link.number("label_smoothing", 0.0, 0.8, 0.0, step=0.05), 0.05)
    patience = c2.slider("Early stopping patience (0 = off)", 0, 20, link.number("early_stopping", 0, 20, 0))
    use_split = c2.toggle("Split-AI ensemble", link.flag("split_ai"), help=f"{SPLIT.train.split_models} sub-models; each member is answered "
                          f"only by the {SPLIT.train.split_held_out} that never trained on it (Tang et al. 2022). "
                          f"Trains like the split preset: {SPLIT.train.epochs} epochs, {SPLIT.shadows} shadows.")
    use_dp = c3.toggle("DP-SGD (Opacus)", link.flag("dp"))
    epsilon = c3.slider("Target epsilon", 0.5, 20.0, link.number("epsilon", 0.5, 20.0, 3.0, step=0.5), 0.5)
    labels_only = c3.toggle("The API answers with labels only", link.flag("labels_only"), help="Hides the confidences: the attacks that read "
                            "them cannot run, and the label-only attacks (Choquette-Choo et al. 2021) try instead.")
    seed = c3.number_input("Seed", 0, 10_000, link.number("seed", 0, 10_000, 0))
    submitted = st.form_submit_button("Train and attack", type="primary")
link.say_what_was_refused(said)
if submitted:  # the URL now opens these settings: a link to hand out
    to_url(dropout=dropout, weight_decay=weight_decay, label_smoothing=smoothing, early_stopping=patience,
           split_ai=use_split, dp=use_dp, epsilon=epsilon, labels_only=labels_only, seed=int(seed))


def configuration() -> tuple[dict, ExperimentConfig]:
    """The form's settings as a sweep point (for the chart) and as the configuration to train."""
    settings = {"dropout": dropout, "weight_decay": weight_decay, "label_smoothing": smoothing,
                "early_stopping": patience, "dp_epsilon": epsilon if use_dp else None}
    base = SPLIT if use_split else DP if use_dp else BASE
    cfg = replace(base.with_train(**settings), seed=int(seed), labels_only=labels_only,
                  attacks=base.attacks + (LABEL_ONLY if labels_only else ()))
    return {**settings, "split_models": SPLIT.train.split_models if use_split else None,
            "labels_only": labels_only}, cfg


runs = st.session_state.setdefault("defence_runs", [])  # this browser session's runs
shipped = shipped_sweeps()
if submitted:
    try:
        point, cfg = configuration()
        watch("defence_run", service().submit_experiment(cfg), "Training and attacking", about=(point, cfg))
    except ValueError as err:
        st.error(f"Cannot train this target: {err}")
if (done := finished("defence_run")) and done.ok:
    result = {k: v for k, v in done.result.items() if k != "scores"}  # the per-record rows: not needed here
    runs.append(DefenceRun.from_result(*done.about, result))
    st.session_state["defence_last_result"] = result  # the report's run
if runs:
    runs_panel(runs, BASE, shipped)
audit_panel(lambda: configuration()[1])
st.subheader("Privacy-utility trade-off")
sweep_panel(BASE)
trade_off(runs, BASE, shipped)
