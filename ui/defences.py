"""The Defences page in words: what each run changed against the session's first run, and whether the change lies
outside the 95% intervals; a warning when a model's accuracy sits at chance."""

from mia_core.service import LABELS, describe

CHANCE_ACCURACY = 0.1  # ten digits
USELESS = 0.2  # below this test accuracy a model is at or near chance: whatever privacy it shows is worthless


def auc_change(before: dict, after: dict) -> str:
    """How the best attack's AUC moved between two runs, judged by their 95% intervals."""
    a, lo_a, hi_a = before["best_auc"], before["best_auc_low"], before["best_auc_high"]
    b, lo_b, hi_b = after["best_auc"], after["best_auc_low"], after["best_auc_high"]
    if hi_b < lo_a or hi_a < lo_b:
        judged = "the intervals do not overlap: a clear change"
    elif not lo_a <= b <= hi_a or not lo_b <= a <= hi_b:
        judged = "the intervals overlap: a change at the edge of what these records can tell"
    else:
        judged = "each inside the other's interval: no measurable change"
    return (f"the best attack's AUC went from {a:.3f} [{lo_a:.3f}, {hi_a:.3f}] to {b:.3f} [{lo_b:.3f}, {hi_b:.3f}], "
            f"{'down' if b < a else 'up'}; {judged}")


def settings_words(run: dict) -> str:
    """The defences a run switched on ("dropout=0.5, weight_decay=0.001"), or "undefended"."""
    return describe({k: v for k, v in run.items() if v not in (0, 0.0, None, "", False)})


def run_sentence(number: int, run: dict, first: dict) -> str:
    """One sentence per run: its settings, and for later runs what changed against the first."""
    settings = settings_words(run)
    accuracy = f"test accuracy {run['test_accuracy']:.1%}"
    best = LABELS.get(run["best_attack"], run["best_attack"])
    if run is first:
        text = (f"Run {number} ({settings}): {accuracy}; the strongest attack, {best}, has AUC {run['best_auc']:.3f} "
                f"[{run['best_auc_low']:.3f}, {run['best_auc_high']:.3f}].")
    else:
        moved = run["test_accuracy"] - first["test_accuracy"]
        text = (f"Run {number} ({settings}) against run 1 ({settings_words(first)}): {auc_change(first, run)}; "
                f"{accuracy} ({moved:+.1%}).")
    if run["test_accuracy"] < USELESS:
        text += (f" **This model is useless**: its test accuracy sits at chance ({CHANCE_ACCURACY:.0%} for ten "
                 "digits), so the privacy it shows is worth nothing.")
    return text
