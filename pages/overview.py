"""Home: the threat model, what each page does, the data in use, the models in the store."""

import os

import streamlit as st

from mia_core.report import with_interval
from mia_core.store import StoreError
from mia_core.workflows import DEMO, build_demo, demo_configs, loaded_from_result
from ui.state import StreamlitProgress, digits, inside_the_app, remember, store

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
| **Targets** | train an overfitted or a defended LeNet (train size, epochs, dropout, L2), watch its curves, keep it |
| **Attack** | shadow models, threshold baselines, LiRA and RMIA on a target: table, log-log ROC, histograms |
| **Membership test** | draw a digit or pick one, and see each attack's member probability on both targets |
| **Defences** | toggle dropout, L2, label smoothing, early stopping, DP-SGD and a Split-AI ensemble; the privacy-utility chart |
| **Experiments** | the seed project's two results tables, reproduced honestly, beside its published numbers |
""")

st.subheader("Data and models")
st.write(f"Data in use: **{digits().source}**. Model store: `{store().root}`.")
names = store().names()
st.write("Stored models: " + (", ".join(f"`{n}`" for n in names) if names else "none yet."))

missing = [n for n in DEMO if n not in names]
if missing:
    small = os.environ.get("MIA_DEMO_SMALL") == "1"
    st.info("The demo needs two targets (overfitted and defended) with their shadow and attack models. "
            "Building them takes about 80 seconds on a 2-core laptop" + (" (small test configuration)." if small else "."))
    if st.button("Build the demo models", type="primary"):
        with st.status("Building the demo models…", expanded=True) as status:
            results = build_demo(store(), digits(), progress=StreamlitProgress(st), configs=demo_configs(small=small))
            for name, result in results.items():  # every page is ready at once: nothing is fitted twice
                remember(name, loaded_from_result(name, result, digits()))
            status.update(label="Demo models built.", state="complete")
        st.rerun()
else:
    cols = st.columns(len(DEMO))
    for col, name in zip(cols, DEMO):
        try:
            meta = store().meta(name)
        except StoreError as err:
            col.error(str(err))
            continue
        shadow = meta["metrics"].get("shadow")
        col.metric(f"{name}: test accuracy", f"{meta['target']['test_accuracy']:.1%}",
                   f"train {meta['target']['train_accuracy']:.1%}", delta_color="off")
        col.caption(f"shadow-attack AUC {with_interval(shadow['auc'], shadow['auc_ci'])} (95% interval)"
                    if shadow else "not attacked yet")
    st.success("Demo models are ready: try the **Membership test** page.")
