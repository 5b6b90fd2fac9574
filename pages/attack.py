"""Run the shadow-model attack, the threshold baselines, LiRA and RMIA on a stored target."""

import streamlit as st

from mia_core.service import (ATTACKS, IN_SAMPLE_NOTE, LABELS, REALISTIC, SHADOW_ATTACKS, AttackRun, StoreError,
                              build_report, charts, csv_text)
from ui.jobs import finished, waiting, watch
from ui.state import digits, inside_the_app, service

inside_the_app()

st.title("Attack")
names = service().store.names()
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
    attacks = st.multiselect("Attacks", charts.attack_order(ATTACKS), default=list(SHADOW_ATTACKS),
                             format_func=lambda a: LABELS[a], help="The seed's in-sample fit, last, is not an attack: "
                             "add it to compare with the seed project's figures.")
    submitted = st.form_submit_button("Run the attack", type="primary")

runs = st.session_state.setdefault("attack_runs", [])  # this browser session's runs only
if submitted:
    if not attacks:
        st.error("Choose at least one attack.")
        st.stop()
    try:
        job = service().submit_attack(name, shadows=shadows, attacks=tuple(attacks), references=references)
    except (StoreError, ValueError) as err:
        st.error(f"Cannot attack {name}: {err}")
        st.stop()
    watch("attack_run", job, f"Attacking {name} with {shadows} shadow models", about=name)
if (done := finished("attack_run")) and done.ok:
    runs.append(AttackRun.from_result(done.result, number=len(runs) + 1, target=done.about))

if not runs:
    if not waiting("attack_run"):
        st.info("Run an attack to see its results here. Each run adds rows to the table.")
    st.stop()

order = {a: i for i, a in enumerate(charts.attack_order(ATTACKS))}  # the seed's in-sample fit last
table = [row for run in runs for row in sorted(run.rows, key=lambda r: order.get(r["attack"], len(order)))]
st.subheader("Results")
st.caption("Scored on held-out members and non-members that no attack saw; `_low` and `_high` bound each figure's "
           "95% bootstrap interval. Accuracy, precision, recall and F1 at each attack's own decision rule and a 50% "
           "member prior. An empty TPR cell is one the non-members cannot resolve (it needs 10 / FPR of them). "
           + IN_SAMPLE_NOTE)
st.dataframe(table, hide_index=True, width="stretch")
c1, c2, c3 = st.columns(3)
c1.download_button("Download the table (CSV)", csv_text(table), "attack_results.csv", "text/csv")
c2.download_button("Download per-record scores of the last run (CSV)", runs[-1].record_scores, "record_scores.csv",
                   "text/csv", help="One row per scored record: dataset index, true membership (1 member, 0 "
                                    "non-member), and each attack's statistic and member probability.")
last_json = runs[-1].json
audit = st.session_state.get("epsilon_audit")  # from the Defences page, when this session ran one
c3.download_button("Download a report of the last run (HTML)", lambda: build_report(last_json, digits=digits(),
                                                                                    audit=audit),
                   "membership_report.html", "text/html", help="One file that opens offline: figures, intervals, "
                   "ROC, the most exposed digits and the command that reproduces the run.")

c1, c2 = st.columns(2)
c1.plotly_chart(charts.metrics_per_run(table, "auc"), width="stretch")
c2.plotly_chart(charts.metrics_per_run(table, "accuracy"), width="stretch")

last = runs[-1]
st.subheader(f"Run {last.number}: {last.target} (train-test gap {last.gap:+.1%})")
st.plotly_chart(charts.roc_chart(last.curves), width="stretch")
cols = st.columns(3)
for i, attack in enumerate(charts.attack_order(last.probabilities)):
    cols[i % 3].plotly_chart(charts.score_histogram(last.probabilities[attack], last.is_member, LABELS[attack]),
                             width="stretch")

st.subheader("Most exposed training digits")
attack = st.selectbox("Ranked by", [a for a in last.probabilities if a in REALISTIC], format_func=lambda a: LABELS[a])
top = last.exposed(attack, 10)
st.plotly_chart(charts.exposed_digits(digits().images[last.index[top]], last.probabilities[attack][top]),
                width="stretch")
st.caption("The target's training digits this attack is surest about: typically unusual digits the model had to memorise.")
