"""Every figure in docs/results.md, from one command: the commands each table names, submitted together to the job
runner (they run in parallel on the worker processes; a run kept from before comes back at once), written as
docs/results.md, each table under the command and seeds that give it.

    python -m scripts.readme_figures                  # write docs/results.md
    python -m scripts.readme_figures --write-assets   # also rewrite assets/results/ (sweeps, seed tables)
    python -m scripts.readme_figures --out -          # print the document instead

Each command is parsed by the command line's own parser into the configuration it runs: the same configuration is
the same job, whichever command submits it, so each figure is the one its command prints. Presets are read from
mia_core.config; the document's descriptions of them follow.
"""

import argparse
import shlex
import sys
import textwrap
from pathlib import Path

from mia_core.cli import build_parser, canary_count, config_from_args, sweep_base
from mia_core.config import preset
from mia_core.experiment.reproduce import markdown, reproduce_rows, write_csv
from mia_core.experiment.sweep import DefenceRun, parse_grid
from mia_core.present.tables import with_interval
from mia_core.service import Service

PREFIX = "python -m mia_core "
OVERFIT_SEEDS = (0, 123)
DEFENDED_SEED = 123
SEEDS = (0, 1, 2)  # the DP-SGD and Split-AI rows, and the white-box audit
REALISTIC = ("shadow", "loss", "confidence", "entropy", "modified_entropy")
THRESHOLD = ("loss", "confidence", "entropy", "modified_entropy")
ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets" / "results"
DOCS = ROOT / "docs" / "results.md"
WIDTH = 115  # the prose's line width


# --- the commands behind the document

def overfit_runs() -> list[str]:
    return [f"{PREFIX}run --preset overfit --seed {s}" for s in OVERFIT_SEEDS]


def more_references_run() -> str:
    references = 2 * preset("overfit").references
    return f"{PREFIX}run --preset overfit --seed 0 --references {references} --attacks lira_online,loss"


def defended_run() -> str:
    return f"{PREFIX}run --preset defended --seed {DEFENDED_SEED}"


def defence_runs() -> dict[tuple[str, int], str]:
    return {(p, s): f"{PREFIX}run --preset {p} --seed {s}" for p in ("dp", "split") for s in SEEDS}


def split_sweep() -> str:
    return (f"{PREFIX}sweep --preset split --grid split_models={preset('split').train.split_models} "
            "--grid split_held_out=1,2,4,8 --seed 0 --out assets/results/split_sweep.csv")


def dropout_sweep() -> str:
    return (f"{PREFIX}sweep --grid dropout=0,0.25,0.5 --grid weight_decay=0,0.001,0.01 --seed 0 "
            "--out assets/results/sweep.csv")


def white_box_audits() -> list[str]:
    return [f"{PREFIX}audit --preset dp --seed {s} --white-box" for s in SEEDS] + [
        f"{PREFIX}audit --preset dp --seed 0 --white-box --canaries 1000{more}"
        for more in ("", " --dp-epsilon 1", " --dp-epsilon 8")]


def black_box_audits() -> list[str]:
    return [f"{PREFIX}audit --preset dp --seed 0", f"{PREFIX}audit --preset overfit --seed 0"]


def reproduction() -> str:
    return f"{PREFIX}reproduce --out assets/results --epochs 20 25 50 100 --seeds 1"


def plan() -> list[tuple[str, str]]:
    """(kind, command) for every job the document needs."""
    return ([("run", c) for c in [*overfit_runs(), more_references_run(), defended_run(), *defence_runs().values()]]
            + [("sweep", split_sweep()), ("sweep", dropout_sweep())]
            + [("audit", c) for c in [*white_box_audits(), *black_box_audits()]]
            + [("reproduce", reproduction())])


def parsed(command: str) -> argparse.Namespace:
    return build_parser().parse_args(shlex.split(command.removeprefix(PREFIX)))


class Figures:
    """Submits every command's jobs at once; `results()` maps each command to what it prints from: a run's or
    an audit's JSON, a sweep's runs, a reproduction's rows."""

    def __init__(self, service: Service):
        self.service = service
        self.pending: dict[str, object] = {}

    def submit(self, kind: str, command: str) -> None:
        args = parsed(command)
        if kind == "run":
            self.pending[command] = self.service.submit_experiment(config_from_args(args))
        elif kind == "audit":
            self.pending[command] = self.service.submit_audit(config_from_args(args), count=canary_count(args),
                                                              confidence=args.confidence, white_box=args.white_box)
        elif kind == "sweep":
            self.pending[command] = self.service.submit_sweep(sweep_base(args), parse_grid(args.grid))
        else:
            self.pending[command] = self.service.submit_reproduction(epochs=tuple(args.epochs), seeds=args.seeds)

    def jobs(self) -> int:
        return sum(len(p[1]) if isinstance(p, tuple) else len(p) if isinstance(p, list) else 1
                   for p in self.pending.values())

    def results(self) -> dict:
        out = {}
        for command, pending in self.pending.items():
            if isinstance(pending, list):  # a sweep
                out[command] = [DefenceRun.from_result(p, c, j.result()) for p, c, j in pending]
            elif isinstance(pending, tuple):  # a reproduction
                steps, jobs = pending
                out[command] = reproduce_rows(steps, [j.result() for j in jobs])
            else:
                out[command] = pending.result()
        return out


# --- the document

HEADER = """# Results

Every figure below comes from the command printed above its table, on the embedded MNIST subset, on the CPU,
with today's code; a seed gives the same figures on any executor and any number of workers. The whole document is
written by `python -m scripts.readme_figures`. AUCs and rates carry their 95% bootstrap interval in brackets; a
TPR at 1% FPR is `n/a` where the non-members are too few to resolve it, or tied scores cannot reach it.
docs/method.md says what each attack and figure is.
"""


def ci(m: dict | None) -> str:
    return "not run" if m is None else with_interval(m["auc"], m["auc_ci"])


def tpr(m: dict | None) -> str:
    return "not run" if m is None else with_interval(m["tpr_at_fpr"]["0.01"], m["tpr_at_fpr_ci"]["0.01"])


def tpr_value(m: dict | None) -> float | None:
    return None if m is None else m["tpr_at_fpr"]["0.01"]


def share(values: list[float]) -> str:
    """'22%-24%' (or '22%'): the spread of some rates over seeds."""
    low, high = f"{min(values):.0%}", f"{max(values):.0%}"
    return low if low == high else f"{low}-{high}"


def best(result: dict) -> str:
    """The strongest realistic attack of a run, by AUC."""
    attacks = {n: m for n, m in result["attacks"].items() if n in REALISTIC}
    return max(attacks, key=lambda n: attacks[n]["auc"])


OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}


def setting(value: float, name: str) -> str:
    """'no dropout' or 'dropout 0.3'."""
    return f"no {name}" if not value else f"{name} {value:g}"


def code(*commands: str) -> list[str]:
    return ["```bash", *commands, "```", ""]


ACTIVATIONS = {"lenet5": "ReLU", "lenet5_tanh": "tanh, as LeCun et al. built it", "seed_lenet": "the seed's"}


def coin_flip_tpr(result: dict) -> str:
    """What a coin flip finds at 1% FPR on a run's records, for one attack and for the best of them."""
    one = (result.get("tpr_at_fpr_chance_band") or {}).get("0.01")
    best = (result.get("tpr_at_fpr_chance_band_best_of_attacks") or {}).get("0.01")
    if one is None:
        return ""
    return (f" (a coin flip finds up to {one[1]:.0%}" + (f", the best of the {len(result['attacks'])} attacks up to "
                                                          f"{best[1]:.0%}" if best else "") + ")")


def overfit_section(results: dict) -> list[str]:
    cfg, t = preset("overfit"), preset("overfit").train
    runs = [results[c] for c in overfit_runs()]
    data = runs[0]["data"]
    scored = data["eval_members"] + data["eval_non_members"]
    lines = ["## The overfitted target, and what finds its members", "",
             f"The `overfit` preset: {cfg.train_size} members, {t.epochs} epochs of "
             f"{OPTIMIZERS.get(t.optimizer, t.optimizer)} (lr {t.lr:g}, batch {t.batch_size}), "
             f"{setting(t.dropout, 'dropout')}, {setting(t.weight_decay, 'weight decay')}, "
             + (f"label smoothing {t.label_smoothing:g}, " if t.label_smoothing else "") + "no augmentation; "
             f"{cfg.shadows} shadow models; {cfg.references} reference models, each "
             f"trained like the target on {cfg.train_size} of the {scored:,} scored records ({data['eval_members']} "
             f"members, {data['eval_non_members']:,} held-out non-members), so each record is \"in\" for about "
             f"{cfg.references * cfg.train_size / scored:.0f} of them.", "", *code(*overfit_runs()),
             "| seed | train / test acc | LiRA online AUC | LiRA online TPR@1%FPR | LiRA offline TPR@1%FPR | RMIA "
             "TPR@1%FPR | loss TPR@1%FPR | shadow TPR@1%FPR |", "|---|---|---|---|---|---|---|---|"]
    for seed, r in zip(OVERFIT_SEEDS, runs):
        a = r["attacks"]
        lines.append(f"| {seed} | {r['target']['train_accuracy']:.3f} / {r['target']['test_accuracy']:.3f} | "
                     f"{ci(a.get('lira_online'))} | " + " | ".join(tpr(a.get(n)) for n in (
                         "lira_online", "lira_offline", "rmia", "loss", "shadow")) + " |")
    lira = [v for r in runs if (v := tpr_value(r["attacks"].get("lira_online"))) is not None]
    plain = [v for r in runs for n in ("loss", "shadow") if (v := tpr_value(r["attacks"].get(n))) is not None]
    aucs = [r["attacks"][n]["auc"] for r in runs for n in THRESHOLD if n in r["attacks"]]
    band, advantage = runs[0]["chance_band"], runs[0]["advantage_chance_band"]
    sentences = []
    if lira:
        sentences.append(f"At 1% false positives, online LiRA finds {share(lira)} of the members" +
                         (f"; the loss threshold and the shadow models find {share(plain)}" if plain else "")
                         + coin_flip_tpr(runs[0]) + ".")
    if aucs:
        sentences.append(f"The AUCs of the threshold attacks ({min(aucs):.2f}-{max(aucs):.2f}) hide that difference: "
                         "they separate members on average, not one by one.")
    sentences.append(f"A coin flip's AUC lies in {band[0]:.3f}-{band[1]:.3f} on {data['eval_members']} + "
                     f"{data['eval_non_members']:,} records, and its advantage below {advantage[1]:.3f} (the one-sided "
                     "Kolmogorov-Smirnov band).")
    lines += ["", " ".join(sentences), ""]
    train = share([r["target"]["train_accuracy"] for r in runs])
    test = share([r["target"]["test_accuracy"] for r in runs])
    lines += [f"Why this target: it is LeNet-5 ({ACTIVATIONS.get(t.arch, t.arch)}) trained the way a practitioner "
              f"trains a small classifier they have not regularised, to {train} training accuracy, with no label "
              f"noise, no planted records and no tricks on the attacker's side, and it still classifies {test} of "
              "unseen digits right (docs/method.md, \"The targets\", says why tanh). Twice the reference models "
              f"({2 * cfg.references}):", ""]
    more, base = results[more_references_run()]["attacks"], runs[0]["attacks"]
    lines += code(more_references_run())
    lines += [f"gives online LiRA {tpr(more.get('lira_online'))} at 1% FPR (AUC {ci(more.get('lira_online'))}), "
              f"against {tpr(base.get('lira_online'))} (AUC {ci(base.get('lira_online'))}) with {cfg.references} on "
              "the same seed.", ""]
    return lines


def defended_section(results: dict) -> list[str]:
    cfg = preset("defended")
    r = results[defended_run()]
    a = r["attacks"]
    resolved = [v for n in REALISTIC if (v := tpr_value(a.get(n))) is not None]
    lines = ["## The defended target", "",
             f"The `defended` preset: {cfg.train_size:,} members, {cfg.train.epochs} epochs, dropout "
             f"{cfg.train.dropout:g}, L2 {cfg.train.weight_decay:g}.", "", *code(defended_run())]

    def one(name: str, label: str, detail: bool) -> str:
        if name not in a:
            return f"{label} not run"
        if not detail:
            value = tpr_value(a[name])
            return f"{label} {'n/a' if value is None else f'{value:.3f}'}"
        return f"{label} {tpr(a[name])} (AUC {a[name]['auc']:.3f})"

    found = (f"Every realistic attack finds at most {max(resolved):.1%} of members at 1% FPR: " if resolved else
             "No realistic attack's TPR at 1% FPR can be resolved: ")
    lines.append(f"Train / test accuracy {r['target']['train_accuracy']:.3f} / {r['target']['test_accuracy']:.3f}. "
                 + found + ", ".join([one("shadow", "shadow", True), one("loss", "loss", True),
                                      one("confidence", "confidence", False), one("entropy", "entropy", False),
                                      one("modified_entropy", "modified entropy", False)]) + ".")
    return lines + [""]


def defences_section(results: dict) -> list[str]:
    seeds = " ".join(map(str, SEEDS))
    lines = ["## DP-SGD and Split-AI", "",
             *code(f"for S in {seeds}; do for P in dp split; do {PREFIX}run --preset $P --seed $S; done; done"),
             "\"Best realistic\" is the strongest of the shadow, loss, confidence, entropy and modified-entropy "
             "attacks.", "",
             "| preset | seed | train acc | test acc | shadow AUC | loss AUC | best realistic AUC | best TPR@1%FPR |"
             " in-sample fit accuracy |", "|---|---|---|---|---|---|---|---|---|"]
    for (name, seed), command in defence_runs().items():
        r = results[command]
        a, t = r["attacks"], r["target"]
        b = best(r)
        resolved = [n for n in REALISTIC if tpr_value(a.get(n)) is not None]
        b_tpr = max(resolved, key=lambda n: a[n]["tpr_at_fpr"]["0.01"]) if resolved else None
        label = f"dp (epsilon {t['epsilon']:.2f})" if name == "dp" else name
        in_sample = f"{a['seed_in_sample']['accuracy']:.3f}" if "seed_in_sample" in a else "not run"
        lines.append(f"| {label} | {seed} | {t['train_accuracy']:.3f} | {t['test_accuracy']:.3f} | "
                     f"{ci(a.get('shadow'))} | {ci(a.get('loss'))} | {ci(a[b])} ({b}) | "
                     + (f"{tpr(a[b_tpr])} ({b_tpr})" if b_tpr else "n/a") + f" | {in_sample} |")
    split = preset("split")
    lines += ["", f"Split-AI's {split.train.split_models} sub-models train on {split.train_size} members; its \"train "
              "accuracy\" is what the ensemble answers its own members, from sub-models that never saw them.", ""]
    return lines


def sweep_table(runs: list[DefenceRun], *settings: str) -> list[str]:
    """A sweep's runs: its settings (name, heading pairs), test accuracy and the best realistic attack."""
    names, headings = settings[0::2], settings[1::2]
    table = ["| " + " | ".join(headings) + " | test acc | best realistic attack | its AUC |",
             "|" + "---|" * (len(names) + 3)]
    for r in runs:
        table.append("| " + " | ".join(f"{r.settings[n]:g}" for n in names) + f" | {r.test_accuracy:.3f} | "
                     f"{r.best_attack} | {with_interval(r.best_auc, r.best_auc_ci)} |")
    return table


def split_sweep_section(results: dict) -> list[str]:
    return ["## Split-AI: members left out of H sub-models", "", *code(split_sweep()),
            *sweep_table(results[split_sweep()], "split_held_out", "held out"), ""]


def rate(run: DefenceRun, attack: str) -> str:
    figures = run.attacks.get(attack)
    return "not run" if figures is None else "n/a" if figures.tpr is None else f"{figures.tpr:.3f}"


def auc_cell(run: DefenceRun, attack: str) -> str:
    figures = run.attacks.get(attack)
    return "not run" if figures is None else with_interval(figures.auc, figures.auc_ci)


def dropout_sweep_section(results: dict) -> list[str]:
    runs = results[dropout_sweep()]
    lines = ["## Dropout and L2 on the overfit preset", "", *code(dropout_sweep()),
             "| dropout | L2 | test acc | LiRA online AUC | LiRA online TPR@1%FPR | loss AUC | loss TPR@1%FPR |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r.settings['dropout']:g} | {r.settings['weight_decay']:g} | {r.test_accuracy:.3f} | "
                     f"{auc_cell(r, 'lira_online')} | {rate(r, 'lira_online')} | {auc_cell(r, 'loss')} | "
                     f"{rate(r, 'loss')} |")
    lira = [r.attacks["lira_online"].tpr for r in runs
            if "lira_online" in r.attacks and r.attacks["lira_online"].tpr is not None]
    tests = [r.test_accuracy for r in runs]
    found = f"online LiRA finds {share(lira)} of the members at 1% FPR, and " if lira else ""
    lines += ["", f"Across the grid {found}test accuracy moves between {min(tests):.3f} and {max(tests):.3f}: dropout "
              f"and L2 alone do not defend the {preset('overfit').train_size}-member target. Training on more digits "
              "does (the defended preset, above), and so do DP-SGD and Split-AI.", ""]
    return lines


def audit_label(command: str) -> str:
    args = parsed(command)
    options = command.removeprefix(f"{PREFIX}audit ")
    return f"`{options}`" + ("" if args.white_box else " (black-box)")


def audit_section(results: dict) -> list[str]:
    commands = [*white_box_audits(), *black_box_audits()]
    lines = ["## Auditing epsilon in one run", "",
             *code(*(f"{c}   # {canary_count(parsed(c)):,} {'gradient' if parsed(c).white_box else 'data'} canaries"
                     for c in commands)),
             "| command | guesses right | epsilon_lower_bound (ceiling) | epsilon_lower_bound_fdp, Gaussian curve "
             "(ceiling) | accountant's epsilon |", "|---|---|---|---|---|"]
    for command in commands:
        a = results[command]
        promised = "no promise (no DP)" if a["accountant_epsilon"] is None else f"{a['accountant_epsilon']:.2f}"
        lines.append(f"| {audit_label(command)} | {a['correct']} / {a['guesses']} | {a['epsilon_lower_bound']:.2f} "
                     f"({a['epsilon_ceiling']:.2f}) | {a['epsilon_lower_bound_fdp']:.2f} "
                     f"({a['epsilon_ceiling_fdp']:.2f}) | {promised} |")
    dp_black, overfit = (results[c] for c in black_box_audits())
    given = ("every canary" if overfit["correct"] == overfit["guesses"] else
             f"{overfit['correct']} of the {overfit['guesses']} canaries")
    lines += ["", f"The overfitted target gives away {given} the audit guesses on: without DP no finite epsilon is "
              f"promised, and the audit proves at least {overfit['epsilon_lower_bound']:.2f}, against the "
              f"{overfit['epsilon_ceiling']:.2f} that {overfit['canaries']} canaries could ever prove."]
    w = results[white_box_audits()[0]]
    accountant = w["accountant_epsilon"]
    exceeds = max(w["epsilon_lower_bound"], w["epsilon_lower_bound_fdp"]) > accountant
    proved = ("nothing under DP" if dp_black["epsilon_lower_bound"] == 0 else
              f"epsilon {dp_black['epsilon_lower_bound']:.2f} under DP")
    lines += ["", f"The white-box audit of the dp preset proves {w['epsilon_lower_bound'] / accountant:.0%} of the "
              "accountant's epsilon in one run with Steinke et al.'s analysis, which assumes nothing of the mechanism "
              f"({w['epsilon_lower_bound']:.2f} of {accountant:.2f} on seed 0), and "
              f"{w['epsilon_lower_bound_fdp'] / accountant:.0%} with the f-DP analysis of the same guesses, which "
              f"refutes Gaussian trade-off curves (`mu_lower_bound` {w['mu_lower_bound']:.3f} on seed 0: epsilon "
              f"{w['epsilon_lower_bound_fdp']:.2f} for such a curve); "
              + ("one exceeds the accountant's, which the analyses do not allow" if exceeds else
                 "neither exceeds the accountant's")
              + f"; the black-box audit, with {dp_black['canaries']} data canaries scored from the final model, "
              f"proves {proved}.", ""]
    return lines


def reproduction_section(results: dict) -> list[str]:
    return ["## The seed project's tables, reproduced", "", *code(reproduction()),
            "The overfit and defended presets at the seed project's epoch counts, attacked by the shadow models and by "
            "the seed's in-sample fit.", "", *markdown(results[reproduction()]).replace("## ", "### ").splitlines()]


def wrapped(lines: list[str]) -> list[str]:
    """Prose filled to the document's width; headings, tables and commands as they are."""
    out, in_code = [], False
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
        if in_code or line.startswith(("```", "|", "#")) or len(line) <= WIDTH:
            out.append(line)
        else:
            out += textwrap.wrap(line, WIDTH, break_long_words=False, break_on_hyphens=False)
    return out


def results_document(results: dict) -> str:
    """docs/results.md from each command's results (`Figures.results`): every table under its command and seeds."""
    parts = [HEADER]
    for section in (overfit_section, defended_section, defences_section, split_sweep_section,
                    dropout_sweep_section, audit_section, reproduction_section):
        parts.append("\n".join(wrapped(section(results))))
    return "\n".join(parts).rstrip("\n") + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/results.md: every figure under the command that gives it.")
    parser.add_argument("--out", default=str(DOCS), help="where the document goes (-: print it); default %(default)s")
    parser.add_argument("--write-assets", action="store_true", help="rewrite assets/results/ from these runs")
    parser.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    args = parser.parse_args(argv)
    service = Service(workers=args.workers)
    try:
        figures = Figures(service)
        for kind, command in plan():
            figures.submit(kind, command)
        print(f"{figures.jobs()} jobs submitted", file=sys.stderr, flush=True)
        results = figures.results()
        document = results_document(results)
    finally:
        service.shutdown()
    if args.out == "-":
        print(document, end="")
    else:
        Path(args.out).write_text(document)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.write_assets:
        write_csv([run.to_row() for run in results[dropout_sweep()]], ASSETS / "sweep.csv")
        write_csv([run.to_row() for run in results[split_sweep()]], ASSETS / "split_sweep.csv")
        write_csv(results[reproduction()], ASSETS / "results.csv")
        (ASSETS / "results.md").write_text(markdown(results[reproduction()]))
        print(f"wrote {ASSETS}/sweep.csv, split_sweep.csv, results.csv, results.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
