"""Plain-text tables of results for the command line."""

import numpy as np

from ..attacks import IN_SAMPLE_NOTE, LABELS
from ..audit.guesses import ACCOUNTANT_NOTE
from ..metrics import RocCurve
from ..workshop.planting import PlantOutcome

def with_interval(value: float | None, interval, digits: int = 3) -> str:
    """'0.669 [0.620, 0.716]', or 'n/a' for a figure the data cannot resolve."""
    if value is None:
        return "n/a"
    return f"{value:.{digits}f} [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def attack_table(attacks: dict[str, dict], advantage_band: tuple[float, float] | None = None) -> str:
    """One row per attack, from the JSON form of the results; 95% bootstrap intervals in brackets. With
    `advantage_band` (a coin flip's advantage range), an advantage inside it is marked "(chance)"."""
    def advantage(m: dict) -> str:
        text = with_interval(m["advantage"], m["advantage_ci"])
        return text + (" (chance)" if advantage_band is not None and m["advantage"] <= advantage_band[1] else "")

    cells = {"AUC": lambda m: with_interval(m["auc"], m["auc_ci"]),
             "TPR@1%FPR": lambda m: with_interval(m["tpr_at_fpr"]["0.01"], m["tpr_at_fpr_ci"]["0.01"]),
             "TPR@0.1%FPR": lambda m: with_interval(m["tpr_at_fpr"]["0.001"], m["tpr_at_fpr_ci"]["0.001"]),
             "advantage": advantage,
             "accuracy": lambda m: with_interval(m["accuracy"], m["accuracy_ci"]),
             "prec": lambda m: f"{m['precision']:.3f}", "rec": lambda m: f"{m['recall']:.3f}",
             "sec": lambda m: f"{m['seconds']:.1f}"}
    rows = [["attack", *cells]] + [[LABELS.get(n, n), *(f(m) for f in cells.values())] for n, m in attacks.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def run_summary(result: dict) -> str:
    t, d = result["target"], result["data"]
    lines = [
        f"data: {d['source']}; target members {d['members']}, held-out non-members {d['non_members']},"
        f" shadow pool {d['shadow_pool']} (each shadow trains on {d['shadow_train_size']})"
        + (f"; {d['references']} reference models, each on {d['reference_train_size']} of a {d['reference_pool']}-record"
           f" pool, RMIA population {d['population']}" if d.get("references") else ""),
        f"target: train accuracy {t['train_accuracy']:.4f}, test accuracy {t['test_accuracy']:.4f},"
        f" gap {t['train_accuracy'] - t['test_accuracy']:+.4f}, {t['seconds']:.1f} s"
        + (f"; DP-SGD epsilon {t['epsilon']:.2f} at delta {t['delta']:g} (the accountant's: {ACCOUNTANT_NOTE})"
           if t.get("epsilon") is not None else ""),
        "seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in result["seconds"].items()),
        f"scored: {d['eval_members']} members and {d['eval_non_members']} non-members, none seen by any attack."
        " Accuracy, precision and recall at each attack's decision rule and a 50% member prior;"
        " 95% bootstrap intervals in brackets.",
        "",
        attack_table(result["attacks"], result.get("advantage_chance_band")),
    ]
    lines.append("\n" + chance_lines(result, d["eval_members"], d["eval_non_members"]))
    notes: dict[str, list[str]] = {}  # each reason a TPR is not a number -> the attacks it holds for
    for name, m in result["attacks"].items():
        for note in m["tpr_at_fpr_note"].values():
            notes.setdefault(note, []).append(LABELS.get(name, name))
    lines += [f"n/a{'' if len(who) == len(result['attacks']) else ' for ' + ', '.join(who)}: {note}."
              for note, who in sorted(notes.items())]
    for name, why in result.get("not_run", {}).items():
        lines.append(f"not run: {LABELS.get(name, name)} {why}.")
    if "seed_in_sample" in result["attacks"]:
        lines.append(IN_SAMPLE_NOTE)
    return "\n".join(lines)


def chance_lines(result: dict, members: int, non_members: int) -> str:
    """What a coin flip scores on these records: the AUC band, the advantage band and the band of TPRs at 1% FPR, each
    for one attack, and the last two corrected for the number of attacks (the AUC band is not corrected)."""
    low, high = result["chance_band"]
    k = len(result["attacks"])
    lines = [f"AUCs from {low:.3f} to {high:.3f} are what a coin flip scores 95% of the time on {members} + "
             f"{non_members} records: indistinguishable from guessing"
             + (f" (a band for one attack, not corrected for the best of these {k})." if k > 1 else ".")]
    if result.get("advantage_chance_band") is not None:
        one = result["advantage_chance_band"][1]
        line = (f"Advantages up to {one:.3f} are what a coin flip reaches 95% of the time on these records (one-sided "
                "two-sample Kolmogorov-Smirnov): max(TPR - FPR) is positive by chance, and its bootstrap interval "
                "excluding 0 says nothing")
        best = result.get("advantage_chance_band_best_of_attacks")
        if k > 1 and best is not None:
            line += f"; the best of these {k} attacks, up to {best[1]:.3f} (Bonferroni-corrected for {k})"
        lines.append(line + ".")
    band = (result.get("tpr_at_fpr_chance_band") or {}).get("0.01")
    if band is not None:
        line = (f"TPRs at 1% FPR up to {band[1]:.3f} are what a coin flip reaches 95% of the time on these records "
                "(members above the non-members' top 1%)")
        best = (result.get("tpr_at_fpr_chance_band_best_of_attacks") or {}).get("0.01")
        if k > 1 and best is not None:
            line += f"; the best of these {k} attacks, up to {best[1]:.3f}"
        lines.append(line + ".")
    return "\n".join(lines)


def describe_plant(outcome: PlantOutcome, labels: dict[str, str] | None = None) -> list[str]:
    """A plant job's outcome in plain sentences: the verdicts at 1% FPR, the verdict attack's AUC against its
    baseline and the coin-flip band, and the best attack's AUC against the band corrected for trying them all."""
    labels = labels or {}
    baseline = outcome.baseline_attacks or {}
    planted, kept_out = outcome.planted, outcome.kept_out
    low, high = outcome.chance_band
    lines = []
    name = outcome.verdict_attack
    if name is not None and outcome.flagged is not None:
        f, b, fpr = outcome.flagged, outcome.baseline_flagged, outcome.verdict_fpr
        lines.append(f"At {fpr:.0%} FPR, {labels.get(name, name)} flagged {f.planted} of {planted} "
                     f"planted and {f.kept_out} of {kept_out} kept-out drawings as members (a coin flip flags "
                     f"about {fpr * planted:.2g} of {planted})" + (
                         f"; on the same target trained without any drawing, {b.planted} and {b.kept_out}."
                         if b else "."))
        m = outcome.attacks[name]
        where = ("inside the coin-flip band" if low <= m.auc <= high else "below the coin-flip band"
                 if m.auc < low else "above the coin-flip band, its whole interval too" if m.auc_ci[0] > high
                 else "above the coin-flip band, though its interval reaches into it")
        lines.append(f"{labels.get(name, name)} tells planted from kept-out drawings with AUC {m.auc:.2f} "
                     f"[{m.auc_ci[0]:.2f}, {m.auc_ci[1]:.2f}], {where} ({low:.2f} to {high:.2f} for "
                     f"{planted} + {kept_out} drawings)" + (
                         f"; the baseline, the same drawings on the target trained without them, scores "
                         f"{baseline[name].auc:.2f}." if name in baseline else "."))
    best = max(outcome.attacks, key=lambda a: outcome.attacks[a].auc)
    k, (low_k, high_k) = outcome.best_of, outcome.chance_band_best_of
    beyond = "beyond" if outcome.attacks[best].auc > high_k else "not beyond"
    lines.append(f"The best of the {k} attacks, {labels.get(best, best)}, reaches AUC "
                 f"{outcome.attacks[best].auc:.2f}"
                 + (f" (baseline {baseline[best].auc:.2f})" if best in baseline else "") + ": "
                 f"{beyond} {high_k:.2f}, the coin-flip band's top corrected for picking the best of {k} attacks.")
    return lines


def plant_summary(outcome: PlantOutcome) -> str:
    """A plant run in words: the target, each drawing's member probabilities, each attack's AUC."""
    t = outcome.target
    names = list(outcome.attacks)
    lines = [f"target: the overfit demo's {outcome.config.train_size} members + {outcome.planted} planted drawings; "
             f"train accuracy {t.train_accuracy:.4f}, test accuracy {t.test_accuracy:.4f}; it names "
             f"{t.planted_accuracy:.0%} of the planted and {t.kept_out_accuracy:.0%} of the kept-out drawings "
             "right",
             f"attacker: {outcome.attacker}",
             "seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in outcome.seconds.items()),
             "", "member probability of each drawing:",
             " ".join(f"{h:>9}" for h in ("drawing", "digit", "role", *names))]
    for i, drawing in enumerate(outcome.drawings):
        lines.append(" ".join(f"{v:>9}" for v in (i, drawing.label, "planted" if drawing.planted else "kept out",
                                                    *(f"{drawing.member_probability[a]:.3f}" for a in names))))
    lines += ["", f"telling {outcome.planted} planted from {outcome.kept_out} kept-out drawings (95% bootstrap "
                  "intervals):"]
    baseline = outcome.baseline_attacks or {}
    lines += [f"  {LABELS.get(a, a):<34} AUC {with_interval(m.auc, m.auc_ci)}"
              + (f"   baseline (target without them) {with_interval(baseline[a].auc, baseline[a].auc_ci)}"
                 if a in baseline else "") for a, m in outcome.attacks.items()]
    low, high = outcome.chance_band
    lines.append(f"AUCs from {low:.3f} to {high:.3f} are what a coin flip scores 95% of the time on so few drawings.")
    if outcome.baseline_attacks:
        lines += ["", *describe_plant(outcome, LABELS)]
    return "\n".join(lines)


def result_rows(result: dict, *, run: int, target: str) -> list[dict]:
    """The seed's columns (run, epochs, accuracy, precision, recall, F1, time) plus AUC, TPR at 1% and 0.1%
    FPR (None where unresolved) and advantage, each with its 95% interval; one row per attack of a run's JSON."""
    cfg = result["config"]
    rows = []
    for name, m in result["attacks"].items():
        row = {"run": run, "target": target, "epochs": cfg["train"]["epochs"], "train_size": cfg["train_size"],
               "dropout": cfg["train"]["dropout"], "weight_decay": cfg["train"]["weight_decay"],
               "shadows": cfg["shadows"], "attack": name, "members": m["members"], "non_members": m["non_members"]}
        for key, value, interval in (("auc", m["auc"], m["auc_ci"]),
                                     ("tpr_at_1pct_fpr", m["tpr_at_fpr"]["0.01"], m["tpr_at_fpr_ci"]["0.01"]),
                                     ("tpr_at_0.1pct_fpr", m["tpr_at_fpr"]["0.001"], m["tpr_at_fpr_ci"]["0.001"]),
                                     ("advantage", m["advantage"], m["advantage_ci"]),
                                     ("accuracy", m["accuracy"], m["accuracy_ci"])):
            row[key] = value
            row[f"{key}_low"], row[f"{key}_high"] = interval if interval is not None else (None, None)
        band = result.get("advantage_chance_band")
        row["advantage_chance_high"] = band[1] if band is not None else None  # a coin flip's 95% reach
        band = (result.get("tpr_at_fpr_chance_band") or {}).get("0.01")
        row["tpr_at_1pct_fpr_chance_high"] = band[1] if band is not None else None
        rows.append({**row, "precision": m["precision"], "recall": m["recall"], "f1": m["f1"], "time_s": m["seconds"]})
    return rows


def record_arrays(result: dict) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """From a run's per-record rows (`result["scores"]`): dataset indices, true membership, and each
    attack's member probability, as arrays in the rows' order."""
    rows = result["scores"]
    index = np.array([row["index"] for row in rows])
    is_member = np.array([row["member"] for row in rows], bool)
    return index, is_member, {a: np.array([row[f"{a}_probability"] for row in rows]) for a in result["attacks"]}


def roc_curves(result: dict) -> dict[str, RocCurve]:
    """Each attack's ROC curve from a run's JSON."""
    return {name: RocCurve(np.array(c["fpr"]), np.array(c["tpr"]), result["attacks"][name]["auc"])
            for name, c in result["roc"].items()}

