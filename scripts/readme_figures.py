"""Every figure in the README's results sections, from one command: the runs the README names, submitted
together to the job runner (they run in parallel on the worker processes; a run kept from before comes back
at once), printed as the README's tables.

    python -m scripts.readme_figures                  # print the tables (about 25 minutes on 2 cores)
    python -m scripts.readme_figures --write-assets   # also rewrite assets/results/ (sweeps, seed tables)

Each figure is the same as the command beside it in the README prints (`python -m mia_core run ...`):
the same configuration gives the same job, whichever command submits it.
"""

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from mia_core.config import DEFAULT_ATTACKS, preset
from mia_core.report import with_interval
from mia_core.reproduce import markdown, reproduce_rows, write_csv
from mia_core.service import Service
from mia_core.sweep import point_row

SEEDS = (0, 1, 2)
REALISTIC = ("shadow", "loss", "confidence", "entropy", "modified_entropy")
REFERENCE_ATTACKS = ("lira_online", "lira_offline", "rmia")
ASSETS = Path(__file__).resolve().parent.parent / "assets" / "results"


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


def print_tables(figures: Figures, sweep, split_sweep, reproduction, *, write_assets: bool) -> None:
    print("## Presets (run --preset P --seed S; overfit with the reference attacks, --references 16)\n")
    print("| preset | seed | train acc | test acc | shadow AUC | loss AUC | best realistic AUC | best TPR@1%FPR |"
          " in-sample fit accuracy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("overfit", "defended", "dp", "split"):
        for seed in SEEDS:
            r = figures[f"{name} {seed}"]
            a, t = r["attacks"], r["target"]
            b = best(r)
            resolved = [n for n in REALISTIC if a[n]["tpr_at_fpr"]["0.01"] is not None]
            b_tpr = max(resolved, key=lambda n: a[n]["tpr_at_fpr"]["0.01"]) if resolved else None
            label = f"dp (epsilon {t['epsilon']:.2f})" if name == "dp" else name
            print(f"| {label} | {seed} | {t['train_accuracy']:.3f} | {t['test_accuracy']:.3f} | {ci(a['shadow'])} | "
                  f"{ci(a['loss'])} | {ci(a[b])} ({b}) | "
                  + (f"{tpr(a[b_tpr])} ({b_tpr})" if b_tpr else "n/a")
                  + f" | {a['seed_in_sample']['accuracy']:.3f} |")

    print("\n## LiRA and RMIA with R reference models (run --preset overfit --attacks lira_online,lira_offline,"
          "rmia,loss --references R --seed S)\n")
    print("| R | seed | LiRA online AUC | LiRA offline AUC | RMIA AUC | loss AUC | LiRA online TPR@1%FPR |"
          " LiRA offline TPR@1%FPR | RMIA TPR@1%FPR |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in (2, 3, 4, 16):
        for seed in SEEDS:
            a = figures[f"references {r} {seed}" if r != 16 else f"overfit {seed}"]["attacks"]
            print(f"| {r} | {seed} | " + " | ".join(ci(a[n]) for n in (*REFERENCE_ATTACKS, "loss")) + " | "
                  + " | ".join(tpr(a[n]) for n in REFERENCE_ATTACKS) + " |")

    print("\n## Split-AI against the overfit preset (run --preset split / overfit --seed S)\n")
    print("| seed | overfit test acc | split test acc | overfit best realistic AUC | split best realistic AUC |")
    print("|---|---|---|---|---|")
    for seed in SEEDS:
        o, s = figures[f"overfit {seed}"], figures[f"split {seed}"]
        print(f"| {seed} | {o['target']['test_accuracy']:.3f} | {s['target']['test_accuracy']:.3f} | "
              f"{ci(o['attacks'][best(o)])} | {ci(s['attacks'][best(s)])} |")
    print("split members' accuracy (train acc):", [f"{figures[f'split {s}']['target']['train_accuracy']:.3f}"
                                                   for s in SEEDS])
    for n in REFERENCE_ATTACKS:
        print(f"split, 4 references, {n}:", " / ".join(ci(figures[f"split references {s}"]["attacks"][n])
                                                      for s in SEEDS))
    split_rows = [point_row(p, c, j.result()) for p, c, j in split_sweep]
    print("split sweep (held out 1, 2, 4, 8): test acc", " / ".join(f"{r['test_accuracy']:.3f}" for r in split_rows),
          "; best AUC", " / ".join(f"{r['best_auc']:.3f} [{r['best_auc_low']:.3f}, {r['best_auc_high']:.3f}]"
                                   for r in split_rows))
    print("dp: test acc", " / ".join(f"{figures[f'dp {s}']['target']['test_accuracy']:.3f}" for s in SEEDS),
          "; best realistic AUC", " / ".join(ci(figures[f"dp {s}"]["attacks"][best(figures[f"dp {s}"])])
                                              for s in SEEDS))

    sweep_rows = [point_row(p, c, j.result()) for p, c, j in sweep]
    print("\n## Dropout x L2 sweep (sweep --grid dropout=0,0.25,0.5 --grid weight_decay=0,0.001,0.01)\n")
    for r in sweep_rows:
        print(f"dropout {r['dropout']}, L2 {r['weight_decay']}: test acc {r['test_accuracy']:.3f}, best "
              f"{r['best_attack']} {r['best_auc']:.3f} [{r['best_auc_low']:.3f}, {r['best_auc_high']:.3f}]")

    print("\n## Audits (audit --seed 0 and the options shown)\n")
    print("| target | empirical epsilon (95%) | accountant's epsilon | right guesses |")
    print("|---|---|---|---|")
    for name, job in figures.jobs.items():
        if name.startswith("`"):
            a = job.result()
            promised = "none (no DP)" if a["accountant_epsilon"] is None else f"{a['accountant_epsilon']:.2f}"
            print(f"| {name} | {a['epsilon_lower_bound']:.2f} | {promised} | {a['correct']} / {a['guesses']} |")

    print("\n## Label-only (run --preset overfit --labels-only --attacks label_only,label_only_noise,loss,"
          "confidence,entropy --seed S)\n")
    for n in ("label_only", "label_only_noise"):
        print(f"{n}:", " / ".join(ci(figures[f"label-only {s}"]["attacks"][n]) for s in SEEDS))

    plan = [p for p, _ in reproduction]
    rows = reproduce_rows(plan, [j.result() for _, j in reproduction])
    print("\n## The seed's tables (reproduce --out assets/results --seeds 1)\n")
    print(markdown(rows))
    if write_assets:
        write_csv(sweep_rows, ASSETS / "sweep.csv")
        write_csv(split_rows, ASSETS / "split_sweep.csv")
        write_csv(rows, ASSETS / "results.csv")
        (ASSETS / "results.md").write_text(markdown(rows))
        print(f"wrote {ASSETS}/sweep.csv, split_sweep.csv, results.csv, results.md")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-assets", action="store_true", help="rewrite assets/results/ from these runs")
    parser.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    args = parser.parse_args(argv)
    service = Service(workers=args.workers)
    try:
        figures = Figures(service)
        sweep, split_sweep, reproduction = submit(figures)
        print(f"{len(figures.jobs) + len(sweep) + len(split_sweep) + len(reproduction)} jobs submitted",
              file=sys.stderr, flush=True)
        print_tables(figures, sweep, split_sweep, reproduction, write_assets=args.write_assets)
    finally:
        service.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
