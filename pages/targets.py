"""Train or load an overfitted or a defended LeNet target, with live training curves."""

from dataclasses import replace

import streamlit as st

from mia_core.charts import training_curves
from mia_core.config import ExperimentConfig, TrainConfig, preset
from mia_core.store import StoreError
from mia_core.workflows import train_and_store
from ui.state import StreamlitProgress, digits, inside_the_app, store

inside_the_app()

WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2]


def use_preset(name: str) -> None:
    cfg = preset(name)
    st.session_state.update(train_size=cfg.train_size, epochs=cfg.train.epochs, dropout=cfg.train.dropout,
                            weight_decay=cfg.train.weight_decay, model_name=f"{name}-seed{cfg.seed}")


if "train_size" not in st.session_state:
    use_preset("overfit")

st.title("Targets")
st.caption("Train a LeNet-5 target on part of the data. A small training set and long training overfit; "
           "dropout, L2 weight decay and more data make it generalise.")
left, right, _ = st.columns([1, 1, 3])
left.button("Overfitted preset", on_click=use_preset, args=("overfit",), width="stretch")
right.button("Defended preset", on_click=use_preset, args=("defended",), width="stretch")

with st.form("train"):
    c1, c2 = st.columns(2)
    train_size = c1.slider("Training-set size", 50, 6000, step=50, key="train_size")
    epochs = c1.slider("Epochs", 1, 150, key="epochs")
    seed = c1.number_input("Seed", 0, 10_000, 0, key="seed")
    dropout = c2.slider("Dropout", 0.0, 0.9, step=0.05, key="dropout")
    weight_decay = c2.select_slider("L2 weight decay", WEIGHT_DECAYS, key="weight_decay")
    name = c2.text_input("Save as", key="model_name")
    submitted = st.form_submit_button("Train target", type="primary")

if submitted:
    try:
        cfg = replace(ExperimentConfig(train_size=train_size, seed=int(seed)),
                      train=TrainConfig(epochs=epochs, dropout=dropout, weight_decay=weight_decay))
        with st.status(f"Training {name}…", expanded=True) as status:
            chart, history = st.empty(), []

            def live(p):
                if p.stage == "target":
                    history.append({"epoch": p.step, "loss": p.metrics["loss"],
                                    "train_accuracy": p.metrics["train_acc"], "test_accuracy": p.metrics.get("test_acc")})
                    chart.plotly_chart(training_curves(history), width="stretch")

            target = train_and_store(store(), name, cfg, digits(), progress=StreamlitProgress(st, live))
            status.update(label=f"{name}: train accuracy {target.train_accuracy:.1%}, test {target.test_accuracy:.1%}"
                                f" (gap {target.gap:+.1%}), {target.seconds:.1f} s", state="complete")
        st.session_state["target"] = name
    except (ValueError, StoreError) as err:
        st.error(f"Cannot train this target: {err}")

st.subheader("Saved targets")
rows = []
for n in store().names():
    try:
        meta = store().meta(n)
    except StoreError as err:
        st.warning(str(err))
        continue
    cfg, t = meta["config"], meta["target"]
    rows.append({"name": n, "train size": cfg["train_size"], "epochs": cfg["train"]["epochs"],
                 "dropout": cfg["train"]["dropout"], "L2": cfg["train"]["weight_decay"], "seed": cfg["seed"],
                 "train acc": t["train_accuracy"], "test acc": t["test_accuracy"],
                 "shadows": (meta["shadows"] or {}).get("count", 0), "created": meta["created"]})
if not rows:
    st.info("No targets yet: train one above, or build the demo models on the Overview page.")
    st.stop()
st.dataframe(rows, hide_index=True, width="stretch",
             column_config={"train acc": st.column_config.NumberColumn(format="percent"),
                            "test acc": st.column_config.NumberColumn(format="percent")})
names = [r["name"] for r in rows]
current = st.session_state.get("target")
chosen = st.selectbox("Load a target", names, index=names.index(current) if current in names else 0)
if st.button("Load", key="load"):
    st.session_state["target"] = chosen
if st.session_state.get("target") in names:
    shown = st.session_state["target"]
    st.write(f"Loaded target: **{shown}** (used by the Attack page).")
    st.plotly_chart(training_curves(store().meta(shown)["target"]["history"]), width="stretch", key="saved-curves")
