"""Toggle defences on the overfitted target and watch the attacks fall back towards a coin flip."""

from dataclasses import replace

import streamlit as st

from mia_core.service import (LABELS, ExperimentConfig, build_report, chance_band, charts, describe, is_undefended,
                              point_row, preset, read_csv)
from ui.defences import run_sentence
from ui.jobs import finished, watch
from ui.links import to_url, url_choice, url_flag, url_number
from ui.panels import audit_panel
from ui.state import digits, inside_the_app, service, shipped_results

inside_the_app()

SHIPPED_SWEEPS = {"dropout and L2 (shipped)": "sweep.csv", "Split-AI (shipped)": "split_sweep.csv"}  # from the CLI
SEED_ACCURACIES = {"seed, overfitted (in-sample)": 0.9167, "seed, defended": 0.5026}
LABEL_ONLY = ("label_only", "label_only_noise")
L2_VALUES = [0.0, 1e-4, 1e-3, 5e-3, 1e-2, 5e-2]
BASE = preset("overfit")  # every defence is measured at the overfitted target's training-set size
SPLIT = preset("split")  # the same 200 members; 20 sub-models of 40 epochs and 4 shadows keep a run near a minute
DP = preset("dp")  # DP-SGD's own recipe: on the overfit preset's 200 digits it ends at chance
CHANCE = chance_band(BASE.eval_members, BASE.non_members)
SHOWN_METRICS = (("Test accuracy", "test_accuracy", ".1%", "normal"), ("Train-test gap", "gap", "+.1%", "inverse"),
                 ("Best attack AUC", "best_auc", ".3f", "inverse"), ("Best TPR @ 1% FPR", "best_tpr", ".3f", "inverse"))

st.title("Defences")
st.caption(f"Each run trains a target like the overfitted preset ({BASE.train_size} digits, {BASE.train.epochs} epochs) "
           "with the defences below, trains its shadows the same way, and attacks it with "
           f"{', '.join(LABELS[a] for a in BASE.attacks if a != 'seed_in_sample')}. DP-SGD trains with the dp preset's "
           f"recipe instead ({DP.train_size} digits, {DP.train.epochs} epochs, {DP.train.arch}), which gives a usable "
           "model under DP.")
with st.form("defend"):
    c1, c2, c3 = st.columns(3)
    dropout = c1.slider("Dropout", 0.0, 0.8, url_number("dropout", 0.0, 0.8, 0.0, step=0.05), 0.05)
    weight_decay = c1.select_slider("L2 weight decay", L2_VALUES, url_choice("weight_decay", L2_VALUES, 0.0))
    smoothing = c2.slider("Label smoothing", 0.0, 0.8, url_number("label_smoothing", 0.0, 0.8, 0.0, step=0.05), 0.05)
    patience = c2.slider("Early stopping patience (0 = off)", 0, 20, url_number("early_stopping", 0, 20, 0))
    use_split = c2.toggle("Split-AI ensemble", url_flag("split_ai"), help=f"{SPLIT.train.split_models} sub-models; each member is answered "
                          f"only by the {SPLIT.train.split_held_out} that never trained on it (Tang et al. 2022). "
                          f"Trains like the split preset: {SPLIT.train.epochs} epochs, {SPLIT.shadows} shadows.")
    use_dp = c3.toggle("DP-SGD (Opacus)", url_flag("dp"))
    epsilon = c3.slider("Target epsilon", 0.5, 20.0, url_number("epsilon", 0.5, 20.0, 3.0, step=0.5), 0.5)
    labels_only = c3.toggle("The API answers with labels only", url_flag("labels_only"), help="Hides the confidences: the attacks that read "
                            "them cannot run, and the label-only attacks (Choquette-Choo et al. 2021) try instead.")
    seed = c3.number_input("Seed", 0, 10_000, url_number("seed", 0, 10_000, 0))
    submitted = st.form_submit_button("Train and attack", type="primary")
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
shipped = {label: read_csv(path) for label, name in SHIPPED_SWEEPS.items() if (path := shipped_results(name))}
if submitted:
    try:
        point, cfg = configuration()
        watch("defence_run", service().submit_experiment(cfg), "Training and attacking", about=(point, cfg))
    except ValueError as err:
        st.error(f"Cannot train this target: {err}")
if (done := finished("defence_run")) and done.ok:
    point, cfg = done.about
    result = {k: v for k, v in done.result.items() if k != "scores"}  # the per-record rows: not needed here
    runs.append(point_row(point, cfg, result))
    st.session_state["defence_last_result"] = result

if runs:
    last, first = runs[-1], runs[0]
    for col, (label, key, fmt, colour) in zip(st.columns(4), SHOWN_METRICS):
        if last[key] == "":  # a TPR the non-members cannot resolve
            col.metric(label, "n/a")
            continue
        change = f"{last[key] - first[key]:+{fmt.lstrip('+')}}" if first[key] != "" else None
        col.metric(label, f"{last[key]:{fmt}}", change, delta_color=colour)
    st.caption(f"Changes are against this session's first run. An AUC from {CHANCE[0]:.3f} to {CHANCE[1]:.3f} is what "
               f"a coin flip scores 95% of the time on {BASE.eval_members} members + {BASE.non_members} non-members. "
               f"Last run's best attack: {LABELS.get(last['best_attack'], last['best_attack'])}, "
               f"AUC {last['best_auc']:.3f} "
               f"[{last['best_auc_low']:.3f}, {last['best_auc_high']:.3f}] (95% interval). " +
               (f"DP-SGD spent epsilon {last['epsilon']:.2f} (delta 1e-5)." if last["epsilon"] not in ("", None) else ""))
    for number, run in enumerate(runs, 1):
        st.markdown(run_sentence(number, run, first))
    for name, why in st.session_state["defence_last_result"]["not_run"].items():
        st.caption(f"Not run on the last target: {name}, which {why}.")
    st.dataframe([{"run": i + 1, "settings": describe(r), "test acc": r["test_accuracy"], "gap": r["gap"],
                   "best AUC": r["best_auc"], "best TPR@1%": r["best_tpr"],
                   "epsilon": None if r["epsilon"] in ("", None) else round(r["epsilon"], 2)}
                  for i, r in enumerate(runs)], hide_index=True)
    last_result, audit = st.session_state["defence_last_result"], st.session_state.get("epsilon_audit")
    shown_sweep = st.session_state.get("defence_sweep") or next(iter(shipped.values()), None)
    st.download_button("Download a report of the last run (HTML)", lambda: build_report(
        last_result, digits=digits(), audit=audit, sweep=shown_sweep), "defence_report.html", "text/html",
        help="One file that opens offline, with the dropout and L2 sweep and the epsilon audit if you ran one.")

audit_panel(lambda: configuration()[1])

st.subheader("Privacy-utility trade-off")
with st.expander("Run a sweep (several minutes; points run in parallel, and points anyone ran before come back at once)"):
    with st.form("sweep"):
        grid = {"dropout": st.multiselect("Dropout values", [0.0, 0.25, 0.5], [0.0, 0.25, 0.5]),
                "weight_decay": st.multiselect("L2 values", [0.0, 1e-3, 1e-2], [0.0, 1e-3, 1e-2])}
        go = st.form_submit_button("Run the sweep")
    if go:
        points = service().submit_sweep(BASE, {k: v for k, v in grid.items() if v})
        watch("defence_sweep", [job for *_, job in points],
              [f"Point {i}/{len(points)}: {describe(point)}" for i, (point, *_) in enumerate(points, 1)],
              about=[(point, cfg) for point, cfg, _ in points])
    if (done := finished("defence_sweep", "Running the sweep")) and done.ok:
        st.session_state["defence_sweep"] = [point_row(point, cfg, result) for (point, cfg), result
                                             in zip(done.about, done.results)]

series = {**shipped, **({"this session's sweep": st.session_state["defence_sweep"]}
                        if st.session_state.get("defence_sweep") else {}),
          **({"this session's runs": runs} if runs else {})}
if not series:
    st.info("No sweep yet: run one above, or `python -m mia_core sweep --grid dropout=0,0.25,0.5 "
            "--grid weight_decay=0,1e-3,1e-2 --out sweep.csv`.")
    st.stop()
undefended = next((p for rows in series.values() for p in rows if is_undefended(p)), None)
st.plotly_chart(charts.privacy_utility(series, labels=describe, baseline=undefended, seed_accuracies=SEED_ACCURACIES,
                                       chance_auc=CHANCE), width="stretch")
st.caption("Up and to the left is better: accuracy kept, attack pushed to chance (dotted lines; the grey band is "
           "where a coin flip's AUC falls). Dashed lines: the seed project's published attack accuracies (its 91.67% "
           "was an in-sample figure). Error bars: the best attack's 95% AUC interval. The shipped sweeps come from "
           "`python -m mia_core sweep` (commands in the README); each session sees its own sweeps and runs beside them.")
