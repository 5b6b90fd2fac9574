"""Run the shadow-model attack, the threshold baselines, LiRA and RMIA on a stored target."""

import streamlit as st

from mia_core.attacks import ATTACKS, IN_SAMPLE_NOTE, LABELS, REALISTIC
from mia_core.charts import exposed_digits, metrics_per_run, roc_chart, score_histogram
from mia_core.html_report import build as build_report
from mia_core.report import most_exposed, result_rows
from mia_core.reproduce import csv_text
from mia_core.store import StoreError
from mia_core.workflows import SHADOW_ATTACKS, attack_stored
from ui.state import StreamlitProgress, digits, inside_the_app, store

inside_the_app()

st.title("Attack")
names = [n for n in store().names()]
if not names:
    st.info("No targets yet: train one on the Targets page, or build the demo models on the Overview page.")
    st.stop()

current = st.session_state.get("target")
with st.form("attack"):
    name = st.selectbox("Target", names, index=names.index(current) if current in names else 0)
    c1, c2 = st.columns(2)
    shadows = c1.slider("Shadow models", 1, 16, 4)
    references = c2.slider("Reference models (LiRA, RMIA)", 2, 32, 8, step=2,
                           help="Trained once per target and count, then kept in the model store.")
    attacks = st.multiselect("Attacks", list(ATTACKS), default=[*SHADOW_ATTACKS, "seed_in_sample"],
                             format_func=lambda a: LABELS[a])
    submitted = st.form_submit_button("Run the attack", type="primary")

runs = st.session_state.setdefault("attack_runs", [])  # this browser session's runs only
if submitted:
    if not attacks:
        st.error("Choose at least one attack.")
        st.stop()
    try:
        with st.status(f"Attacking {name} with {shadows} shadow models…", expanded=True) as status:
            result = attack_stored(store(), name, digits(), shadows=shadows, attacks=tuple(attacks),
                                   references=references, progress=StreamlitProgress(st))
            status.update(label=f"Attacked {name}.", state="complete")
    except (StoreError, ValueError) as err:
        st.error(f"Cannot attack {name}: {err}")
        st.stop()
    runs.append({"rows": result_rows(result, run=len(runs) + 1, target=name),
                 "curves": {a: r.curve for a, r in result.attacks.items()},
                 "scores": {a: (r.probability, r.is_member) for a, r in result.attacks.items()},
                 "record_scores": csv_text(result.record_scores()), "json": result.to_json(),
                 "index": next(iter(result.attacks.values())).index,
                 "target": name, "gap": result.target.gap})

if not runs:
    st.info("Run an attack to see its results here. Each run adds rows to the table.")
    st.stop()

table = [row for run in runs for row in run["rows"]]
st.subheader("Results")
st.caption("Scored on held-out members and non-members that no attack saw; `_low` and `_high` bound each figure's "
           "95% bootstrap interval. Accuracy, precision, recall and F1 at each attack's own decision rule and a 50% "
           "member prior. An empty TPR cell is one the non-members cannot resolve (it needs 10 / FPR of them). "
           + IN_SAMPLE_NOTE)
st.dataframe(table, hide_index=True, width="stretch")
c1, c2, c3 = st.columns(3)
c1.download_button("Download the table (CSV)", csv_text(table), "attack_results.csv", "text/csv")
c2.download_button("Download per-record scores of the last run (CSV)", runs[-1]["record_scores"], "record_scores.csv",
                   "text/csv", help="One row per scored record: dataset index, true membership (1 member, 0 "
                                    "non-member), and each attack's statistic and member probability.")
last_json = runs[-1]["json"]
c3.download_button("Download a report of the last run (HTML)", lambda: build_report(last_json, digits=digits()),
                   "membership_report.html", "text/html", help="One file that opens offline: figures, intervals, "
                   "ROC, the most exposed digits and the command that reproduces the run.")

c1, c2 = st.columns(2)
c1.plotly_chart(metrics_per_run(table, "auc"), width="stretch")
c2.plotly_chart(metrics_per_run(table, "accuracy"), width="stretch")

last = runs[-1]
st.subheader(f"Run {len(runs)}: {last['target']} (train-test gap {last['gap']:+.1%})")
st.plotly_chart(roc_chart(last["curves"]), width="stretch")
cols = st.columns(3)
for i, (attack, (scores, is_member)) in enumerate(last["scores"].items()):
    cols[i % 3].plotly_chart(score_histogram(scores, is_member, LABELS[attack]), width="stretch")

st.subheader("Most exposed training digits")
attack = st.selectbox("Ranked by", [a for a in last["scores"] if a in REALISTIC], format_func=lambda a: LABELS[a])
scores, is_member = last["scores"][attack]
top = most_exposed(scores, is_member, 10)
st.plotly_chart(exposed_digits(digits().images[last["index"][top]], scores[top]), width="stretch")
st.caption("The target's training digits this attack is surest about: typically unusual digits the model had to memorise.")
