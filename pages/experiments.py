"""The seed project's two results tables, reproduced, beside its published numbers."""

import streamlit as st

from mia_core.service import SEED_TABLES, charts, markdown, read_csv, reproduce_rows
from ui.jobs import finished, watch
from ui.state import inside_the_app, service, shipped_results

inside_the_app()

st.title("Experiments")
st.markdown(
    "The seed project reported 91.67% attack accuracy on an overfitted target and about 50% on a defended one. "
    "Its code trained no shadow models: its attack model was fitted **and scored** on the target's own "
    "membership labels. That is the **seed's in-sample fit** row here: it measures how well an attack model "
    "memorises labels it is scored on, not what the target leaks, and no attacker has those labels. The "
    "realistic attack uses shadow models and is scored on held-out members and non-members it never saw.")

with st.form("reproduce"):
    epochs = st.multiselect("Epoch counts", [5, 10, 20, 25, 50, 100], default=[20, 25, 50, 100])
    seeds = st.slider("Seeds per cell", 1, 5, 1)
    run = st.form_submit_button("Reproduce the tables", help="Several minutes for the full grid on 2 CPU cores.")

if run and epochs:  # every run is a job: they share the workers, and runs anyone made before come back at once
    plan, jobs = service().submit_reproduction(epochs=tuple(sorted(epochs)), seeds=seeds)
    watch("reproduction", jobs, [f"{setting}, {n} epochs, seed {seed}" for setting, n, seed, _ in plan], about=plan)
if (done := finished("reproduction", "Reproducing the tables")) and done.ok:
    st.session_state["experiment_rows"] = reproduce_rows(done.about, done.results)
rows = st.session_state.get("experiment_rows")
shown = shipped_results("results.csv")
if rows is None and shown is not None:
    rows = read_csv(shown)
    st.caption("The shipped tables, from `python -m mia_core reproduce --out results` (assets/results/results.csv); "
               "reproduce them above to see this session's own.")
if not rows:
    st.info("No results yet: reproduce the tables above, or run `python -m mia_core reproduce --out results`.")
    st.stop()

c1, c2 = st.columns(2)
for col, setting in zip((c1, c2), ("overfit", "defended")):
    col.plotly_chart(charts.experiment_table_chart(rows, setting, SEED_TABLES[setting]), width="stretch")
st.markdown(markdown(rows))
with st.expander("The seed's published tables"):
    for setting, table in SEED_TABLES.items():
        st.markdown(f"**{setting}**")
        st.dataframe([dict(zip(["epochs", "accuracy (%)", "precision", "recall", "f1", "time (s)"], r)) for r in table],
                     hide_index=True)
