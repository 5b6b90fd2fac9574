"""Every figure in docs/results.md, from one command: the runs each table names, submitted together to the job
runner (they run in parallel on the worker processes; a run kept from before comes back at once), written as
docs/results.md, each table under the command and seeds that give it.

    python -m scripts.readme_figures                  # write docs/results.md (about 16 minutes on 2 cores)
    python -m scripts.readme_figures --write-assets   # also rewrite assets/results/ (sweeps, seed tables)
    python -m scripts.readme_figures --out -          # print the document instead

Each figure is the same as the command beside it prints (`python -m mia_core run ...`): the same configuration
gives the same job, whichever command submits it.
"""

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from mia_core.config import DEFAULT_ATTACKS, preset
from mia_core.present.tables import with_interval
from mia_core.experiment.reproduce import markdown, reproduce_rows, write_csv
from mia_core.service import Service
from mia_core.experiment.sweep import point_row

SEEDS = (0, 1, 2)
REALISTIC = ("shadow", "loss", "confidence", "entropy", "modified_entropy")
REFERENCE_ATTACKS = ("lira_online", "lira_offline", "rmia")
ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets" / "results"
DOCS = ROOT / "docs" / "results.md"


def ci(m: dict) -> str:
    return with_interval(m["auc"], m["auc_ci"])


def tpr(m: dict) -> str:
    return with_interval(m["tpr_at_fpr"]["0.01"], m["tpr_at_fpr_ci"]["0.01"])


def best(result: dict, key=lambda m: m["auc"]) -> str:
    """The strongest realistic threshold or shadow attack of a run."""
    attacks = {n: m for n, m in result["attacks"].items() if n in REALISTIC}
    return max(attacks, key=lambda n: key(attacks[n]))


class Figures:
    def __init__(self, service: Service):
        self.service = service
        self.jobs: dict[str, object] = {}

    def run(self, name: str, cfg) -> None:
        self.jobs[name] = self.service.submit_experiment(cfg)

    def audit(self, name: str, cfg) -> None:
        self.jobs[name] = self.service.submit_audit(cfg, count=200)

    def __getitem__(self, name: str) -> dict:
        return self.jobs[name].result()


def submit(figures: Figures) -> tuple[list, list, list]:
    with_references = DEFAULT_ATTACKS + REFERENCE_ATTACKS
    for seed in SEEDS:
        figures.run(f"overfit {seed}", replace(preset("overfit"), seed=seed, attacks=with_references, references=16))
        for name in ("defended", "dp", "split"):
            figures.run(f"{name} {seed}", replace(preset(name), seed=seed))
        for r in (2, 3, 4):
            figures.run(f"references {r} {seed}", replace(preset("overfit"), seed=seed, references=r,
                                                           attacks=REFERENCE_ATTACKS + ("loss",)))
        figures.run(f"split references {seed}", replace(preset("split"), seed=seed, references=4,
                                                         attacks=REFERENCE_ATTACKS))
        figures.run(f"label-only {seed}", replace(preset("overfit"), seed=seed, labels_only=True, attacks=(
            "label_only", "label_only_noise", "loss", "confidence", "entropy")))
    audits = {"`--preset dp --dp-epsilon 1`": preset("dp").with_train(dp_epsilon=1.0),
              "`--preset dp` (epsilon 3)": preset("dp"),
              "`--preset dp --dp-epsilon 8`": preset("dp").with_train(dp_epsilon=8.0),
              "`--preset overfit`": preset("overfit"),
              "`--preset overfit --dropout 0.5 --weight-decay 0.01`": preset("overfit").with_train(dropout=0.5,
                                                                                                 weight_decay=0.01),
              "`--preset overfit --label-smoothing 0.1`": preset("overfit").with_train(label_smoothing=0.1),
              "`--preset defended` (3,000 members, dropout, L2)": preset("defended"),
              "`--preset split`": preset("split")}
    for name, cfg in audits.items():
        figures.audit(name, cfg)
    sweep = figures.service.submit_sweep(preset("overfit"), {"dropout": [0.0, 0.25, 0.5],
                                                             "weight_decay": [0.0, 1e-3, 1e-2]})
    split_sweep = figures.service.submit_sweep(preset("split"), {"split_models": [20],
                                                                 "split_held_out": [1, 2, 4, 8]})
    plan, jobs = figures.service.submit_reproduction(epochs=(20, 25, 50, 100), seeds=1)
    return sweep, split_sweep, list(zip(plan, jobs))


HEADER = """# Results

Every figure below comes from the command printed above its table, on the embedded MNIST subset, on the CPU. The
whole document is written by `python -m scripts.readme_figures` (which submits every one of those runs to the job
runner at once; an identical run, whichever command asks for it, is the same job and gives the same figures). A
seed gives the same figures on any executor and any number of workers. AUCs and rates carry their 95% bootstrap
interval in brackets; "best realistic" is the strongest of the shadow, loss, confidence, entropy and
modified-entropy attacks; a TPR at 1% FPR is `n/a` where the non-members are too few to resolve it. docs/method.md
says what each attack and figure is.
"""


def section(title: str, command: str, table: list[str], note: str = "") -> str:
    return "\n".join([f"## {title}", "", "```bash", command, "```", "", *table, *(["", note] if note else []), ""])


def results_document(figures: Figures, sweep_rows, split_rows, seed_rows) -> str:
    """docs/results.md: every table, each under its command and seeds."""
    seeds = " ".join(map(str, SEEDS))
    parts = [HEADER]

    rows = ["| preset | seed | train acc | test acc | shadow AUC | loss AUC | best realistic AUC | best TPR@1%FPR |"
            " in-sample fit accuracy |", "|---|---|---|---|---|---|---|---|---|"]
    for name in ("overfit", "defended", "dp", "split"):
        for seed in SEEDS:
            r = figures[f"{name} {seed}"]
            a, t = r["attacks"], r["target"]
            b = best(r)
            resolved = [n for n in REALISTIC if a[n]["tpr_at_fpr"]["0.01"] is not None]
            b_tpr = max(resolved, key=lambda n: a[n]["tpr_at_fpr"]["0.01"]) if resolved else None
            label = f"dp (epsilon {t['epsilon']:.2f})" if name == "dp" else name
            rows.append(f"| {label} | {seed} | {t['train_accuracy']:.3f} | {t['test_accuracy']:.3f} | {ci(a['shadow'])}"
                        f" | {ci(a['loss'])} | {ci(a[b])} ({b}) | " + (f"{tpr(a[b_tpr])} ({b_tpr})" if b_tpr else "n/a")
                        + f" | {a['seed_in_sample']['accuracy']:.3f} |")
    parts.append(section(
        "Presets", f"for S in {seeds}; do\n  for P in defended dp split; do python -m mia_core run --preset $P --seed $S; "
        "done\n  python -m mia_core run --preset overfit --seed $S --references 16 --attacks "
        "shadow,loss,confidence,entropy,modified_entropy,seed_in_sample,lira_online,lira_offline,rmia\ndone", rows))

    rows = ["| R | seed | LiRA online AUC | LiRA offline AUC | RMIA AUC | loss AUC | LiRA online TPR@1%FPR |"
            " LiRA offline TPR@1%FPR | RMIA TPR@1%FPR |", "|---|---|---|---|---|---|---|---|---|"]
    for r in (2, 3, 4, 16):
        for seed in SEEDS:
            a = figures[f"references {r} {seed}" if r != 16 else f"overfit {seed}"]["attacks"]
            rows.append(f"| {r} | {seed} | " + " | ".join(ci(a[n]) for n in (*REFERENCE_ATTACKS, "loss")) + " | "
                        + " | ".join(tpr(a[n]) for n in REFERENCE_ATTACKS) + " |")
    parts.append(section(
        "LiRA and RMIA with R reference models",
        f"for S in {seeds}; do for R in 2 3 4; do\n  python -m mia_core run --preset overfit --attacks "
        "lira_online,lira_offline,rmia,loss --references $R --seed $S\ndone; done   # R = 16: the overfit rows above",
        rows))

    rows = ["| seed | overfit test acc | split test acc | split members' accuracy | overfit best realistic AUC |"
            " split best realistic AUC |", "|---|---|---|---|---|---|"]
    for seed in SEEDS:
        o, s = figures[f"overfit {seed}"], figures[f"split {seed}"]
        rows.append(f"| {seed} | {o['target']['test_accuracy']:.3f} | {s['target']['test_accuracy']:.3f} | "
                    f"{s['target']['train_accuracy']:.3f} | {ci(o['attacks'][best(o)])} | {ci(s['attacks'][best(s)])} |")
    parts.append(section("Split-AI against the overfit preset", f"for S in {seeds}; do python -m mia_core run "
                         "--preset split --seed $S; done   # overfit: the preset rows above", rows))

    rows = ["| seed | LiRA online AUC | LiRA offline AUC | RMIA AUC |", "|---|---|---|---|"]
    for seed in SEEDS:
        a = figures[f"split references {seed}"]["attacks"]
        rows.append(f"| {seed} | " + " | ".join(ci(a[n]) for n in REFERENCE_ATTACKS) + " |")
    parts.append(section("Split-AI against the reference attacks", f"for S in {seeds}; do python -m mia_core run "
                         "--preset split --attacks lira_online,lira_offline,rmia --references 4 --seed $S; done", rows))

    parts.append(section(
        "Split-AI: members left out of H sub-models",
        "python -m mia_core sweep --preset split --grid split_models=20 --grid split_held_out=1,2,4,8 "
        "--seed 0 --out assets/results/split_sweep.csv", sweep_table(split_rows, "split_held_out", "held out")))
    parts.append(section(
        "Dropout and L2 on the overfit preset",
        "python -m mia_core sweep --grid dropout=0,0.25,0.5 --grid weight_decay=0,0.001,0.01 --seed 0 "
        "--out assets/results/sweep.csv", sweep_table(sweep_rows, "dropout", "dropout", "weight_decay", "L2")))

    rows = ["| target | empirical epsilon (95%) | accountant's epsilon | right guesses |", "|---|---|---|---|"]
    for name, job in figures.jobs.items():
        if name.startswith("`"):
            a = job.result()
            promised = "none (no DP)" if a["accountant_epsilon"] is None else f"{a['accountant_epsilon']:.2f}"
            rows.append(f"| {name} | {a['epsilon_lower_bound']:.2f} | {promised} | {a['correct']} / {a['guesses']} |")
    parts.append(section("Auditing epsilon in one run", "python -m mia_core audit --seed 0 OPTIONS   # OPTIONS: the "
                         "first column", rows))

    rows = ["| seed | label_only AUC | label_only_noise AUC |", "|---|---|---|"]
    for seed in SEEDS:
        a = figures[f"label-only {seed}"]["attacks"]
        rows.append(f"| {seed} | {ci(a['label_only'])} | {ci(a['label_only_noise'])} |")
    parts.append(section(
        "Label-only attacks", f"for S in {seeds}; do python -m mia_core run --preset overfit --labels-only --attacks "
        "label_only,label_only_noise,loss,confidence,entropy --seed $S; done", rows))

    parts.append(section("The seed project's tables, reproduced",
                         "python -m mia_core reproduce --out assets/results --epochs 20 25 50 100 --seeds 1",
                         markdown(seed_rows).replace("## ", "### ").splitlines()))
    return "\n".join(parts)


def sweep_table(rows: list[dict], *settings: str) -> list[str]:
    """A sweep's CSV rows: its settings (column, heading pairs), test accuracy and the best realistic attack."""
    columns, headings = settings[0::2], settings[1::2]
    table = ["| " + " | ".join(headings) + " | test acc | best realistic attack | its AUC |",
             "|" + "---|" * (len(columns) + 3)]
    for r in rows:
        table.append("| " + " | ".join(f"{r[c]:g}" for c in columns) + f" | {r['test_accuracy']:.3f} | "
                     f"{r['best_attack']} | {r['best_auc']:.3f} [{r['best_auc_low']:.3f}, {r['best_auc_high']:.3f}] |")
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DOCS), help="where the document goes (-: print it); default %(default)s")
    parser.add_argument("--write-assets", action="store_true", help="rewrite assets/results/ from these runs")
    parser.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    args = parser.parse_args(argv)
    service = Service(workers=args.workers)
    try:
        figures = Figures(service)
        sweep, split_sweep, reproduction = submit(figures)
        print(f"{len(figures.jobs) + len(sweep) + len(split_sweep) + len(reproduction)} jobs submitted",
              file=sys.stderr, flush=True)
        sweep_rows = [point_row(p, c, j.result()) for p, c, j in sweep]
        split_rows = [point_row(p, c, j.result()) for p, c, j in split_sweep]
        seed_rows = reproduce_rows([p for p, _ in reproduction], [j.result() for _, j in reproduction])
        document = results_document(figures, sweep_rows, split_rows, seed_rows)
    finally:
        service.shutdown()
    if args.out == "-":
        print(document)
    else:
        Path(args.out).write_text(document)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.write_assets:
        write_csv(sweep_rows, ASSETS / "sweep.csv")
        write_csv(split_rows, ASSETS / "split_sweep.csv")
        write_csv(seed_rows, ASSETS / "results.csv")
        (ASSETS / "results.md").write_text(markdown(seed_rows))
        print(f"wrote {ASSETS}/sweep.csv, split_sweep.csv, results.csv, results.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
