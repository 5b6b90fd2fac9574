"""Train or load an overfitted or a defended LeNet target, with live training curves."""

from dataclasses import replace

import streamlit as st

from mia_core.service import ExperimentConfig, TrainConfig, TrainedTarget
from ui.jobs import finished, watch
from ui.panels import upload_panel
from ui.state import inside_the_app, service, workspace_box
from ui.targets import curves, live_curve, saved_targets, use_preset

inside_the_app()

WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2]

if "train_size" not in st.session_state:
    use_preset("overfit")

st.title("Targets")
st.caption("Train a LeNet-5 target on part of the data. A small training set and long training overfit; "
           "dropout, L2 weight decay and more data make it generalise.")
workspace_box()
left, right, _ = st.columns([1, 1, 3])
left.button("Overfitted preset", on_click=use_preset, args=("overfit",), width="stretch")
right.button("Defended preset", on_click=use_preset, args=("defended",), width="stretch")

with st.form("train"):
    c1, c2 = st.columns(2)
    train_size = c1.slider("Training-set size", 50, 6000, step=50, key="train_size")
    epochs = c1.slider("Epochs", 1, 150, key="epochs")
    seed = c1.number_input("Seed", 0, 10_000, 0, key="seed")
    arch = c1.selectbox("Activation", ["lenet5_tanh", "lenet5"], key="arch",
                        format_func={"lenet5_tanh": "tanh (LeCun's LeNet-5)", "lenet5": "ReLU"}.get)
    dropout = c2.slider("Dropout", 0.0, 0.9, step=0.05, key="dropout")
    weight_decay = c2.select_slider("L2 weight decay", WEIGHT_DECAYS, key="weight_decay")
    name = c2.text_input("Save as", key="model_name")
    overwrite = c2.checkbox("Replace my model of this name", key="overwrite",
                            help="Without this, a name you used before is refused. Shared and shipped models are "
                                 "never replaced from here.")
    submitted = st.form_submit_button("Train target", type="primary")

if submitted:
    try:
        cfg = replace(ExperimentConfig(train_size=train_size, seed=int(seed)),
                      train=TrainConfig(arch=arch, epochs=epochs, dropout=dropout, weight_decay=weight_decay))
        job = service().submit_training(name, cfg, overwrite=overwrite,
                                        hint="tick \"Replace my model of this name\" to replace it")  # a taken name fails here, before training
    except ValueError as err:
        st.error(f"Cannot train this target: {err}")
        st.stop()
    watch("training", job, f"Training {name}", about=name, on_progress=live_curve())
if (finish := finished("training")) and finish.ok:
    name, done = finish.about, TrainedTarget.from_result(finish.result)
    st.plotly_chart(curves(service().history(name)), width="stretch")  # every epoch
    st.success(f"{name}: train accuracy {done.train_accuracy:.1%}, test {done.test_accuracy:.1%} "
               f"(gap {done.gap:+.1%}), {done.seconds:.1f} s")
    st.session_state["target"] = name

upload_panel()
saved_targets()
