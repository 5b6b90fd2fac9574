"""The Defences page's sections: this session's runs (headline figures against the first run, one sentence per run
saying whether the change lies outside the 95% intervals, a warning when a model's accuracy sits at chance, a table,
the report), the sweep form, and the privacy-utility chart beside the shipped sweeps."""

import streamlit as st

from mia_core.service import (LABELS, DefenceRun, ExperimentConfig, build_report, chance_band, charts, describe,
                              is_undefended, read_sweep)
from ui.jobs import finished, watch
from ui.state import digits, service, shipped_results

CHANCE_ACCURACY = 0.1  # ten digits
USELESS = 0.2  # below this test accuracy a model is at or near chance: whatever privacy it shows is worthless
SHIPPED_SWEEPS = {"dropout and L2 (shipped)": "sweep.csv", "Split-AI (shipped)": "split_sweep.csv"}  # from the CLI
SEED_ACCURACIES = {"seed, overfitted (in-sample)": 0.9167, "seed, defended": 0.5026}
SHOWN_METRICS = (("Test accuracy", "test_accuracy", ".1%", "normal"), ("Train-test gap", "gap", "+.1%", "inverse"),
                 ("Best attack AUC", "best_auc", ".3f", "inverse"), ("Best TPR @ 1% FPR", "best_tpr", ".3f", "inverse"))


def auc_change(before: DefenceRun, after: DefenceRun) -> str:
    """How the best attack's AUC moved between two runs, judged by their 95% intervals."""
    a, (lo_a, hi_a) = before.best_auc, before.best_auc_ci
    b, (lo_b, hi_b) = after.best_auc, after.best_auc_ci
    if hi_b < lo_a or hi_a < lo_b:
        judged = "the intervals do not overlap: a clear change"
    elif not lo_a <= b <= hi_a or not lo_b <= a <= hi_b:
        judged = "the intervals overlap: a change at the edge of what these records can tell"
    else:
        judged = "each inside the other's interval: no measurable change"
    return (f"the best attack's AUC went from {a:.3f} [{lo_a:.3f}, {hi_a:.3f}] to {b:.3f} [{lo_b:.3f}, {hi_b:.3f}], "
            f"{'down' if b < a else 'up'}; {judged}")


def settings_words(run: DefenceRun) -> str:
    """The defences a run switched on ("dropout=0.5, weight_decay=0.001"), or "undefended"."""
    return describe({k: v for k, v in run.settings.items() if v not in (0, 0.0, None, False)})


def run_sentence(number: int, run: DefenceRun, first: DefenceRun) -> str:
    """One sentence per run: its settings, and for later runs what changed against the first."""
    settings = settings_words(run)
    accuracy = f"test accuracy {run.test_accuracy:.1%}"
    best = LABELS.get(run.best_attack, run.best_attack)
    if run is first:
        text = (f"Run {number} ({settings}): {accuracy}; the strongest attack, {best}, has AUC {run.best_auc:.3f} "
                f"[{run.best_auc_ci[0]:.3f}, {run.best_auc_ci[1]:.3f}].")
    else:
        moved = run.test_accuracy - first.test_accuracy
        text = (f"Run {number} ({settings}) against run 1 ({settings_words(first)}): {auc_change(first, run)}; "
                f"{accuracy} ({moved:+.1%}).")
    if run.test_accuracy < USELESS:
        text += (f" **This model is useless**: its test accuracy sits at chance ({CHANCE_ACCURACY:.0%} for ten "
                 "digits), so the privacy it shows is worth nothing.")
    return text


def shipped_sweeps() -> dict[str, list[DefenceRun]]:
    """The sweeps shipped in assets/results, by their label on the chart."""
    return {label: read_sweep(path) for label, name in SHIPPED_SWEEPS.items() if (path := shipped_results(name))}


def headline(runs: list[DefenceRun]) -> None:
    """The last run's figures, each with its change against the session's first run; no change while the first run
    is the only one."""
    last, first = runs[-1], runs[0] if len(runs) > 1 else None
    for col, (label, name, fmt, colour) in zip(st.columns(4), SHOWN_METRICS):
        value, before = getattr(last, name), None if first is None else getattr(first, name)
        if value is None:  # a TPR the non-members cannot resolve
            col.metric(label, "n/a")
            continue
        change = f"{value - before:+{fmt.lstrip('+')}}" if before is not None else None
        col.metric(label, f"{value:{fmt}}", change, delta_color=colour)


def runs_panel(runs: list[DefenceRun], base: ExperimentConfig, shipped: dict[str, list[DefenceRun]]) -> None:
    """This session's runs against its first, in figures, in words and in a table; the last run's report."""
    last, first = runs[-1], runs[0]
    low, high = chance_band(base.eval_members, base.non_members)
    headline(runs)
    st.caption(("Changes are against this session's first run. " if len(runs) > 1 else "") +
               f"An AUC from {low:.3f} to {high:.3f} is what "
               f"a coin flip scores 95% of the time on {base.eval_members} members + {base.non_members} non-members. "
               f"Last run's best attack: {LABELS.get(last.best_attack, last.best_attack)}, AUC {last.best_auc:.3f} "
               f"[{last.best_auc_ci[0]:.3f}, {last.best_auc_ci[1]:.3f}] (95% interval). " +
               (f"DP-SGD spent epsilon {last.epsilon:.2f} (delta 1e-5)." if last.epsilon is not None else ""))
    for number, run in enumerate(runs, 1):
        st.markdown(run_sentence(number, run, first))
    for name, why in last.not_run.items():
        st.caption(f"Not run on the last target: {name}, which {why}.")
    st.dataframe([{"run": i + 1, "settings": describe(r.settings), "test acc": r.test_accuracy, "gap": r.gap,
                   "best AUC": r.best_auc, "best TPR@1%": r.best_tpr,
                   "epsilon": None if r.epsilon is None else round(r.epsilon, 2)}
                  for i, r in enumerate(runs)], hide_index=True)
    last_result, audit = st.session_state["defence_last_result"], st.session_state.get("epsilon_audit")
    shown_sweep = st.session_state.get("defence_sweep") or next(iter(shipped.values()), None)
    st.download_button("Download a report of the last run (HTML)", lambda: build_report(
        last_result, digits=digits(), audit=audit, sweep=shown_sweep), "defence_report.html", "text/html",
        help="One file that opens offline, with the dropout and L2 sweep and the epsilon audit if you ran one.")


def sweep_panel(base: ExperimentConfig) -> None:
    """A small dropout and L2 sweep from `base`, its points run in parallel; kept in this session."""
    with st.expander("Run a sweep (several minutes; points run in parallel, and points anyone ran before come back "
                     "at once)"):
        with st.form("sweep"):
            grid = {"dropout": st.multiselect("Dropout values", [0.0, 0.25, 0.5], [0.0, 0.25, 0.5]),
                    "weight_decay": st.multiselect("L2 values", [0.0, 1e-3, 1e-2], [0.0, 1e-3, 1e-2])}
            go = st.form_submit_button("Run the sweep")
        if go:
            points = service().submit_sweep(base, {k: v for k, v in grid.items() if v})
            watch("defence_sweep", [job for *_, job in points],
                  [f"Point {i}/{len(points)}: {describe(point)}" for i, (point, *_) in enumerate(points, 1)],
                  about=[(point, cfg) for point, cfg, _ in points])
        if (done := finished("defence_sweep", "Running the sweep")) and done.ok:
            st.session_state["defence_sweep"] = [DefenceRun.from_result(point, cfg, result) for (point, cfg), result
                                                 in zip(done.about, done.results)]


def trade_off(runs: list[DefenceRun], base: ExperimentConfig, shipped: dict[str, list[DefenceRun]]) -> None:
    """The shipped sweeps, this session's sweep and runs on one privacy-utility chart."""
    mine = st.session_state.get("defence_sweep")
    series = {**shipped, **({"this session's sweep": mine} if mine else {}),
              **({"this session's runs": runs} if runs else {})}
    if not series:
        st.info("No sweep yet: run one above, or `python -m mia_core sweep --grid dropout=0,0.25,0.5 "
                "--grid weight_decay=0,1e-3,1e-2 --out sweep.csv`.")
        return
    undefended = next((r for shown in series.values() for r in shown if is_undefended(r.settings)), None)
    st.plotly_chart(charts.privacy_utility(series, baseline=undefended, seed_accuracies=SEED_ACCURACIES,
                                           chance_auc=chance_band(base.eval_members, base.non_members)),
                    width="stretch")
    st.caption("The panels: the best attack's AUC, its TPR at 1% FPR, and its accuracy. "
               "Up and to the left is better: accuracy kept, attack pushed to chance (dotted lines; the grey band is "
               "where a coin flip's AUC falls). Dashed lines: the seed project's published attack accuracies (its "
               "91.67% was an in-sample figure). Error bars: the best attack's 95% AUC interval. The shipped sweeps "
               "come from `python -m mia_core sweep` (commands in the README); each session sees its own sweeps and "
               "runs beside them.")
