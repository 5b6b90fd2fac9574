"""The Targets page's parts: the presets the buttons load into the form, the training curves, the live curve while a
target trains, and the table of saved targets with the one loaded for the Attack page."""

from dataclasses import asdict

import streamlit as st

from mia_core.service import EpochStats, Progress, charts, preset
from ui.state import service


def use_preset(name: str) -> None:
    """Fill the training form with a preset's settings and a name for the model."""
    cfg = preset(name)
    st.session_state.update(train_size=cfg.train_size, epochs=cfg.train.epochs, dropout=cfg.train.dropout,
                            weight_decay=cfg.train.weight_decay, arch=cfg.train.arch,
                            model_name=f"{name}-seed{cfg.seed}")


def curves(history: list[EpochStats]):
    """The training curves with the legend below them: on a phone the two panels keep the screen's width."""
    return charts.training_curves(history).update_layout(legend=dict(orientation="h", yanchor="top", y=-0.3),
                                                         height=340)


def live_curve():
    """What the status box draws at each of its reruns while a target trains: the epochs it has seen so far."""
    history: list[EpochStats] = []

    def draw(p: Progress) -> None:
        if p.stage == "target" and "loss" in p.metrics and (not history or history[-1].epoch < p.step):
            history.append(EpochStats(p.step, p.metrics["loss"], p.metrics["train_acc"], p.metrics.get("test_acc")))
        if history:
            st.plotly_chart(curves(history), width="stretch", key="live-curves")
    return draw


def saved_targets() -> None:
    """Every stored target in a table, a choice of the one the Attack page uses, and its training curves."""
    st.subheader("Saved targets")
    targets, problems = service().stored_targets()
    for problem in problems:
        st.warning(problem)
    if not targets:
        st.info("No targets yet: train one above, or build the demo models on the Overview page.")
        return
    number = st.column_config.NumberColumn
    st.dataframe([asdict(t) for t in targets], hide_index=True, width="stretch",
                 column_config={"train_size": "train size", "weight_decay": number("L2", format="%g"),
                                "train_accuracy": number("train acc", format="percent"),
                                "test_accuracy": number("test acc", format="percent")})
    names = [t.name for t in targets]
    current = st.session_state.get("target")
    chosen = st.selectbox("Load a target", names, index=names.index(current) if current in names else 0)
    if st.button("Load", key="load"):
        st.session_state["target"] = chosen
    if st.session_state.get("target") in names:
        shown = st.session_state["target"]
        st.write(f"Loaded target: **{shown}** (used by the Attack page).")
        st.plotly_chart(curves(service().history(shown)), width="stretch", key="saved-curves")
