"""Plain-text tables of results for the command line."""

import numpy as np

from .attacks import LABELS


def attack_table(attacks: dict[str, dict]) -> str:
    """One row per attack, from the JSON form of the results."""
    head = f"{'attack':38s} {'acc':>6s} {'prec':>6s} {'rec':>6s} {'f1':>6s} {'auc':>6s} {'tpr@1%':>7s} {'tpr@.1%':>7s} {'adv':>6s} {'sec':>6s}"
    rows = [head, "-" * len(head)]
    for name, m in attacks.items():
        rows.append(f"{LABELS.get(name, name):38s} {m['accuracy']:6.3f} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f}"
                    f" {m['auc']:6.3f} {m['tpr_at_fpr']['0.01']:7.3f} {m['tpr_at_fpr']['0.001']:7.3f}"
                    f" {m['advantage']:6.3f} {m['seconds']:6.2f}")
    return "\n".join(rows)


def run_summary(result: dict) -> str:
    t, d = result["target"], result["data"]
    lines = [
        f"data: {d['source']}; target members {d['members']}, held-out non-members {d['non_members']},"
        f" shadow pool {d['shadow_pool']} (each shadow trains on {d['shadow_train_size']})",
        f"target: train accuracy {t['train_accuracy']:.4f}, test accuracy {t['test_accuracy']:.4f},"
        f" gap {t['train_accuracy'] - t['test_accuracy']:+.4f}, {t['seconds']:.1f} s"
        + (f"; DP-SGD epsilon {t['epsilon']:.2f} at delta {t['delta']:g}" if t.get("epsilon") is not None else ""),
        "seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in result["seconds"].items()),
        "",
        attack_table(result["attacks"]),
    ]
    low, high = result["chance_band"]
    lines.append(f"\nAUCs from {low:.3f} to {high:.3f} are what a coin flip scores 95% of the time on "
                 f"{d['eval_members']} + {d['non_members']} records: indistinguishable from guessing.")
    if "oracle" in result["attacks"]:
        lines.append("oracle = the attack model fitted and scored on the target's true membership (the seed's"
                     " setting): an upper bound, not an attack.")
    return "\n".join(lines)


def result_rows(result, *, run: int, target: str) -> list[dict]:
    """The seed's columns (run, epochs, accuracy, precision, recall, F1, time) plus AUC and TPR@1%FPR,
    one row per attack of an `ExperimentResult`."""
    cfg = result.config
    rows = []
    for name, r in result.attacks.items():
        m = r.metrics
        rows.append({"run": run, "target": target, "epochs": cfg.train.epochs, "train_size": cfg.train_size,
                     "dropout": cfg.train.dropout, "weight_decay": cfg.train.weight_decay, "shadows": cfg.shadows,
                     "attack": name, "accuracy": m.accuracy, "precision": m.precision, "recall": m.recall,
                     "f1": m.f1, "time_s": r.seconds, "auc": m.auc, "tpr_at_1pct_fpr": m.tpr_at_fpr["0.01"],
                     "tpr_at_0.1pct_fpr": m.tpr_at_fpr["0.001"], "advantage": m.advantage})
    return rows


def most_exposed(scores: np.ndarray, is_member: np.ndarray, k: int = 10) -> np.ndarray:
    """Positions of the k members an attack is surest about, highest member probability first."""
    members = np.flatnonzero(is_member)
    return members[np.argsort(-scores[members], kind="stable")[:k]]
