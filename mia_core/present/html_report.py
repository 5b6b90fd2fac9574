"""A report to take home: one self-contained HTML file from a run's JSON (`python -m mia_core report`).

Plotly's JavaScript is embedded once, every chart after it, so the file opens offline and makes
no network request. Sections: a plain-words summary, the configuration and the command that
reproduces it, the data split, every attack's figures with their 95% intervals, the log-log ROC,
the most exposed records as images, and, where given, a privacy-utility sweep and an epsilon audit.
"""

import html
import json
import time

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from ..attacks import IN_SAMPLE_NOTE, LABELS, REALISTIC
from ..data import Digits
from ..experiment.sweep import DefenceRun, is_undefended
from ..metrics import chance_band, tpr_chance_band
from .charts import attack_order, exposed_digits, privacy_utility, roc_chart
from .tables import roc_curves, with_interval

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f0f2f6}td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:.8em;overflow-x:auto}
.summary{font-size:1.15em;background:#fff8e6;border-left:4px solid #f0a500;padding:.6em 1em}.note{color:#666;font-size:.9em}"""


def plain_words(result: dict) -> str:
    """What the strongest realistic attack means for the members, in words that match the intervals. The strongest
    is the best of several, so its AUC is held against the coin-flip band corrected for that many attacks."""
    realistic = {n: m for n, m in result["attacks"].items() if n in REALISTIC}
    if not realistic:
        return "No realistic attack was run."
    best = max(realistic, key=lambda n: realistic[n]["auc"])
    m = realistic[best]
    k = len(realistic)
    low, high = chance_band(m["members"], m["non_members"], level=1 - 0.05 / k) if k > 1 else result["chance_band"]
    band = (f"a coin flip scores {low:.3f} to {high:.3f} on this many records" + (
        f", a band corrected (Bonferroni) for picking the best of {k} attacks" if k > 1 else ""))
    tpr = m["tpr_at_fpr"]["0.01"]
    if tpr is None:
        found = (f"How many members an attacker finds at 1 false alarm in 100 cannot be told from "
                 f"{m['non_members']:,} non-members: {m['tpr_at_fpr_note']['0.01']}.")
    else:
        lo, hi = m["tpr_at_fpr_ci"]["0.01"]
        tpr_band = tpr_chance_band(m["members"], m["non_members"], 0.01, attacks=k)
        reach = tpr_band[1] if tpr_band is not None else 0.01  # what a coin flip finds on average, where no band resolves
        chance_part = (f"a coin flip finds up to {reach:.0%} on this many records, and the interval reaches that"
                       if lo <= reach else f"above the {reach:.0%} a coin flip finds, its whole interval too")
        found = (f"An attacker who accepts 1 false alarm in 100 finds {tpr:.0%} of the members "
                 f"(95% interval {lo:.0%} to {hi:.0%}; {chance_part}) with the strongest attack, "
                 f"{LABELS.get(best, best)}.")
    auc_low = m["auc_ci"][0]
    if low <= m["auc"] <= high:
        verdict = "inside the coin-flip band: indistinguishable from guessing"
    elif m["auc"] < low:
        verdict = "below the coin-flip band"
    elif auc_low > high:
        verdict = "above the coin-flip band, its whole 95% interval too: clearly better than guessing"
    else:
        verdict = "above the coin-flip band, though its 95% interval reaches into it"
    return f"{found} Its AUC is {with_interval(m['auc'], m['auc_ci'])}, {verdict} ({band})."


def defence_rows(config: dict) -> list[list]:
    """The target's training recipe and defences, one setting per row."""
    t = config["train"]
    dp = ("off" if t.get("dp_epsilon") is None and t.get("dp_noise") is None else
          f"target epsilon {t['dp_epsilon']}" if t.get("dp_epsilon") is not None else
          f"noise multiplier {t['dp_noise']}")
    rows = [["training digits", config["train_size"]], ["epochs", t["epochs"]], ["dropout", t["dropout"]],
            ["L2 weight decay", t["weight_decay"]], ["label smoothing", t.get("label_smoothing", 0.0)],
            ["early stopping patience", t.get("early_stopping") or "off"], ["DP-SGD", dp]]
    if t.get("dp_epsilon") is not None or t.get("dp_noise") is not None:
        rows += [["DP delta", t["dp_delta"]], ["DP clipping norm", t["dp_max_grad_norm"]]]
    if t.get("split_models"):
        rows.append(["Split-AI sub-models", f"{t['split_models']} ({t['split_held_out']} never see each member)"])
    if config.get("labels_only"):
        rows.append(["the API answers", "labels only"])
    return rows


def reproduce_commands(result: dict) -> list[str]:
    """The command that made the run (when it came from the command line), and one that replays its
    configuration from a file, whichever page or script made it."""
    replay = "python -m mia_core run --config run.json --json run-again.json"
    return [result["command"], replay] if result.get("command") else [replay]


def _table(head: list[str], rows: list[list]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def _figure(fig: go.Figure) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def build(result: dict, *, digits: Digits | None = None, sweep: list[DefenceRun] | None = None,
          audit: dict | None = None, title: str = "Membership inference report") -> str:
    """The whole report as one HTML string. `digits` (the data the run used) draws the most exposed
    records; `sweep` (a sweep's runs, `read_sweep`) adds the privacy-utility chart; `audit` the epsilon audit."""
    d, t, attacks = result["data"], result["target"], result["attacks"]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class=note>Written {time.strftime('%Y-%m-%d %H:%M')} from a run on {html.escape(d['source'])}.</p>",
             f"<p class=summary>{html.escape(plain_words(result))}</p>"]

    parts += ["<h2>Attacks</h2>", _table(
        ["attack", "AUC", "TPR @ 1% FPR", "TPR @ 0.1% FPR", "advantage", "accuracy (50% prior)", "precision", "recall"],
        [[LABELS.get(n, n), with_interval(m["auc"], m["auc_ci"]),
          with_interval(m["tpr_at_fpr"]["0.01"], m["tpr_at_fpr_ci"]["0.01"]),
          with_interval(m["tpr_at_fpr"]["0.001"], m["tpr_at_fpr_ci"]["0.001"]),
          with_interval(m["advantage"], m["advantage_ci"]), with_interval(m["accuracy"], m["accuracy_ci"]),
          f"{m['precision']:.3f}", f"{m['recall']:.3f}"] for n, m in ((n, attacks[n]) for n in attack_order(attacks))])]
    notes = sorted({note for m in attacks.values() for note in m["tpr_at_fpr_note"].values()})
    notes += [f"{LABELS.get(n, n)} was not run: it {why}." for n, why in result.get("not_run", {}).items()]
    notes += [IN_SAMPLE_NOTE] if "seed_in_sample" in attacks else []
    parts += [f"<p class=note>Brackets: 95% bootstrap intervals. n/a: {html.escape(n)}</p>" if "TPR" in n else
              f"<p class=note>{html.escape(n)}</p>" for n in notes]

    curves = roc_curves(result)
    parts += ["<h2>ROC, log-log</h2><p class=note>What matters is the lower left: members found at few false alarms.</p>",
              _figure(roc_chart(curves))]

    exposed = {n: rows for n, rows in result.get("most_exposed", {}).items() if n in REALISTIC and rows}
    if digits is not None and exposed:
        best = max(exposed, key=lambda n: attacks[n]["auc"])
        rows = exposed[best]
        images = digits.images[[r["index"] for r in rows]]
        parts += [f"<h2>Most exposed members ({html.escape(LABELS.get(best, best))})</h2>",
                  "<p class=note>The target's training digits this attack is surest about, with their member "
                  "probabilities: typically unusual digits the model had to memorise.</p>",
                  _figure(exposed_digits(images, np.array([r["probability"] for r in rows])))]

    if sweep:
        baseline = next((run for run in sweep if is_undefended(run.settings)), None)
        parts += ["<h2>Privacy and utility</h2>",
                  _figure(privacy_utility({"sweep": sweep}, baseline=baseline,
                                          chance_auc=tuple(result["chance_band"])))]

    if audit:
        promised = audit["accountant_epsilon"]
        head = ["canaries", "inserted", "guesses", "correct", "empirical epsilon (lower bound)"]
        row = [audit["canaries"], audit["inserted"], audit["guesses"], audit["correct"],
               f"{audit['epsilon_lower_bound']:.2f} ({audit['confidence']:.0%} confidence)"]
        if audit.get("epsilon_lower_bound_fdp") is not None:
            head.append("lower bound, f-DP analysis")
            row.append(f"{audit['epsilon_lower_bound_fdp']:.2f}")
        if audit.get("epsilon_ceiling") is not None:
            head.append("the most these guesses could prove")
            row.append(f"{audit['epsilon_ceiling']:.2f}")
        head.append("accountant's epsilon (upper bound)")
        row.append("none (no DP)" if promised is None else f"{promised:.2f}")
        parts += ["<h2>Epsilon audit</h2>", _table(head, [row]),
                  "<p class=note>The lower bound is what one training run with canaries proves (Steinke, Nasr, "
                  "Jagielski 2023). The accountant's epsilon is an upper bound on what any attack can achieve, if the "
                  "implementation matches its analysis. A lower bound far below it does not make that bound loose: "
                  "a one-run black-box audit is a weak attacker.</p>"]

    parts += ["<h2>Data</h2>", _table(["split", "digits"], [
        ["target members", d["members"]], ["held-out non-members", d["non_members"]],
        ["scored members / non-members", f"{d['eval_members']} / {d['eval_non_members']}"],
        ["attacker's shadow pool", d["shadow_pool"]], ["test set", d["test"]],
        ["each shadow model trains on", d["shadow_train_size"]], ["reference models", d["references"]]])]
    parts += ["<h2>Target's recipe and defences</h2>", _table(["setting", "value"], defence_rows(result["config"]))]
    parts += ["<h2>Target</h2>", _table(["train accuracy", "test accuracy", "epochs run", "DP epsilon"], [[
        f"{t['train_accuracy']:.4f}", f"{t['test_accuracy']:.4f}", t["epochs_run"],
        "none" if t["epsilon"] is None else f"{t['epsilon']:.2f} (delta {t['delta']:g})"]])]
    parts += ["<h2>Reproduce it</h2>",
              "<p>Same configuration, same seed, same numbers. Run the first command, or save the configuration "
              "below as <code>run.json</code> and run the last:</p>",
              f"<pre>{html.escape(chr(10).join(reproduce_commands(result)))}</pre>",
              f"<pre>{html.escape(json.dumps({'config': result['config']}, indent=1))}</pre>"]
    return (f"<!DOCTYPE html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>{''.join(parts)}</body></html>")
