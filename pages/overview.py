"""Home: the threat model, what each page does, the data in use, the models in the store."""

import os

import streamlit as st

from mia_core.service import DEMO, StoreError, with_interval
from ui.jobs import finished, watch
from ui.state import inside_the_app, service

inside_the_app()

st.title("Was this digit in the training set?")
st.markdown(
    "A **membership inference attack** (Shokri et al., 2017) asks a trained model questions and decides, "
    "from its answers alone, whether a given example was part of its training data. The **target** here is "
    "a LeNet-5 trained on handwritten MNIST digits. The attacker can query it, owns public digits from the "
    "same distribution, trains **shadow models** to imitate it, and trains an **attack model** on how the "
    "shadows answer for their own members and non-members. Models that memorise their training set leak; "
    "defended ones (dropout, L2, more data) push the attack back to a coin flip.")
st.graphviz_chart("""digraph {
  rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#f0f2f6", fontname="sans-serif"];
  pool [label="attacker's public digits"]; data [label="private training digits"];
  target [label="target LeNet", fillcolor="#ffd8d8"]; shadows [label="k shadow LeNets\\n(own in / out halves)"];
  attack [label="attack model\\n(one per class)", fillcolor="#d8e8ff"]; q [label="query digit", shape=ellipse];
  data -> target; pool -> shadows; shadows -> attack [label="outputs + in/out"];
  q -> target -> attack [label="prediction vector"]; attack -> verdict; verdict [label="member?", shape=diamond];
}""")
st.markdown("""
| Page | What it does |
|---|---|
| **Beat the attack** | a game for the room: guess which digits trained the model, against the attack, with a leaderboard |
| **Targets** | train an overfitted or a defended LeNet (train size, epochs, dropout, L2), watch its curves, keep it |
| **Attack** | shadow models, threshold baselines, LiRA and RMIA on a target: table, log-log ROC, histograms |
| **Membership test** | draw a digit or pick one, and see each attack's member probability on both targets |
| **Defences** | toggle dropout, L2, label smoothing, early stopping, DP-SGD and a Split-AI ensemble; the privacy-utility chart |
| **Experiments** | the seed project's two results tables, reproduced honestly, beside its published numbers |
""")

st.subheader("Data and models")
svc = service()
st.write(f"Data in use: **{svc.data_in_words()}**. "
         + ("Models: the demo models shipped with the app, the ones the presenter shares, and your own."
            if svc.store.shipped else "Models: the ones the presenter shares, and your own."))
names = svc.store.names()
st.write("Stored models: " + (", ".join(f"`{n}`" for n in names) if names else "none yet."))

missing = [n for n in DEMO if n not in names]
if missing:  # only with data other than the embedded digits, which the shipped demo models were trained on
    small = os.environ.get("MIA_DEMO_SMALL") == "1"
    st.info("The demo needs two targets (overfitted and defended) with their shadow and reference models. The "
            "shipped ones fit the embedded digits only; for this data, build them here" +
            (" (small test configuration)." if small else "."))
    if st.button("Build the demo models", type="primary"):
        watch("demo_build", svc.submit_demo_build(small=small), "Building the demo models")
    if (done := finished("demo_build")) and done.ok:
        st.rerun()
else:
    cols = st.columns(len(DEMO))
    for col, name in zip(cols, DEMO):
        try:
            summary = svc.demo_summary(name)
        except StoreError as err:
            col.error(str(err))
            continue
        col.metric(f"{name}: test accuracy", f"{summary.test_accuracy:.1%}", f"train {summary.train_accuracy:.1%}",
                   delta_color="off")
        col.caption(f"shadow-attack AUC {with_interval(summary.shadow_auc, summary.shadow_auc_ci)} (95% interval)"
                    if summary.shadow_auc is not None else "not attacked yet")
    st.success("Demo models are ready: try the **Membership test** page.")
