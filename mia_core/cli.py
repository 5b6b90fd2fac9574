"""Command line: `python -m mia_core run | sweep | reproduce | audit | report | export | plant | bench`."""

import argparse
import json
import os
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from .attacks import ATTACKS
from .config import PRESETS, ExperimentConfig, preset
from .data import DATA_DIR_ENV, load_digits
from .experiment.reproduce import markdown, reproduce_rows, write_csv
from .experiment.run import check_feasible
from .experiment.sweep import DefenceRun, configure, grid_points, parse_grid
from .jobs import EXECUTORS, RAY_ADDRESS_ENV, Job, JobFailed
from .jobs.executors import RayClusterError, available_cores
from .models import ARCHITECTURES
from .present.tables import run_summary
from .progress import TqdmProgress
from .service import Service
from .storage.store import StoreError


class Parser(argparse.ArgumentParser):
    """Bad input ends in one line on stderr and exit code 2, never a traceback."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value
    return parse


def _attack_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in ATTACKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown attack {unknown[0] if unknown else text!r}; choose from {','.join(ATTACKS)}")
    return names


def build_parser() -> Parser:
    parser = Parser(prog="python -m mia_core", description="Membership inference attacks on MNIST LeNets.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    run = sub.add_parser("run", help="train a target and its shadows, run the attacks, print a table")
    run.add_argument("--preset", choices=sorted(PRESETS), default="overfit")
    run.add_argument("--config", type=Path, metavar="PATH",
                     help="start from the configuration in a run's JSON (its \"config\") instead of a preset")
    run.add_argument("--train-size", type=_positive(int))
    run.add_argument("--epochs", type=_positive(int))
    run.add_argument("--shadows", type=_positive(int))
    run.add_argument("--references", type=_positive(int), help="reference models for LiRA and RMIA (default 16)")
    run.add_argument("--non-members", type=_positive(int), metavar="N",
                     help="held-out non-members scored (default 1000: resolves a TPR at 1%% FPR)")
    run.add_argument("--dropout", type=float)
    run.add_argument("--weight-decay", type=float)
    run.add_argument("--label-smoothing", type=float)
    run.add_argument("--early-stopping", type=int, metavar="PATIENCE", help="epochs without validation improvement")
    run.add_argument("--dp-epsilon", type=float, help="train with DP-SGD (Opacus) to this epsilon")
    run.add_argument("--dp-noise", type=float, help="train with DP-SGD at this noise multiplier")
    run.add_argument("--split-models", type=int, metavar="K", help="Split-AI: K sub-models (0 = one plain model)")
    run.add_argument("--split-held-out", type=int, metavar="H", help="Split-AI: sub-models that never see each member")
    run.add_argument("--attacks", type=_attack_list, help=f"comma-separated, from {','.join(ATTACKS)}")
    run.add_argument("--labels-only", action="store_true", default=None,
                     help="the target's API answers with a class only: confidence-based attacks cannot run")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--arch", choices=sorted(ARCHITECTURES))
    run.add_argument("--target-weights", type=Path, metavar="FILE.safetensors",
                     help="attack a model trained elsewhere (an --arch; needs --members) instead of training one")
    run.add_argument("--members", type=Path, metavar="FILE.csv",
                     help="with --target-weights: its training set, one dataset index per line")
    run.add_argument("--save", metavar="NAME", help="keep the target and shadows in the model store under NAME")
    run.add_argument("--overwrite", action="store_true", help="let --save replace a stored model of that name")
    _common(run)
    _runner_options(run)
    run.add_argument("--json", type=Path, metavar="PATH", help="write the full results as JSON")
    run.add_argument("--scores", type=Path, metavar="PATH",
                     help="write one CSV row per scored record: index, member, each attack's statistic and probability")

    rep = sub.add_parser("reproduce", help="the seed's two results tables, realistic attack beside the seed's in-sample fit")
    rep.add_argument("--out", type=Path, required=True)
    rep.add_argument("--epochs", type=_positive(int), nargs="+", default=[20, 25, 50, 100])
    rep.add_argument("--seeds", type=_positive(int), default=1)
    _common(rep)
    _runner_options(rep)

    sw = sub.add_parser("sweep", help="train and attack one target per point of a grid of defence settings")
    sw.add_argument("--preset", choices=sorted(PRESETS), default="overfit", help="the settings the grid starts from")
    sw.add_argument("--grid", action="append", required=True, metavar="NAME=V1,V2,...",
                    help="a setting and its values (repeat for a product grid): dropout, weight_decay, "
                         "label_smoothing, dp_epsilon, dp_noise, early_stopping, epochs, train_size, "
                         "split_models, split_held_out")
    sw.add_argument("--attacks", type=_attack_list)
    sw.add_argument("--shadows", type=_positive(int))
    sw.add_argument("--seed", type=int, default=0)
    sw.add_argument("--out", type=Path, required=True, help="CSV file to write")
    _common(sw)
    _runner_options(sw)

    audit = sub.add_parser("audit", help="train once with canaries and bound epsilon from below (Steinke et al. 2023; "
                           "Mahloujifar et al. 2024)")
    audit.add_argument("--preset", choices=sorted(PRESETS), default="dp")
    for flag, kind, text in (("--train-size", _positive(int), None), ("--epochs", _positive(int), None),
                             ("--dropout", float, None), ("--weight-decay", float, None),
                             ("--label-smoothing", float, None), ("--early-stopping", int, None),
                             ("--dp-epsilon", float, "train with DP-SGD (Opacus) to this epsilon"),
                             ("--dp-noise", float, "train with DP-SGD at this noise multiplier")):
        audit.add_argument(flag, type=kind, help=text)
    audit.add_argument("--canaries", type=_positive(int), help="canaries, each inserted with probability 1/2: "
                       "mislabelled digits (default 200), or with --white-box gradient canaries (default 5000)")
    audit.add_argument("--white-box", action="store_true", help="DP-SGD only: Dirac gradient canaries in the clipped "
                       "gradient sum, scored from every step's noisy update (Steinke et al. 2023, white-box)")
    audit.add_argument("--confidence", type=float, default=0.95)
    audit.add_argument("--seed", type=int, default=0)
    _common(audit)
    _runner_options(audit)
    audit.add_argument("--json", type=Path, metavar="PATH", help="write the audit as JSON")

    rpt = sub.add_parser("report", help="one self-contained HTML file from a run's JSON, to take home")
    rpt.add_argument("run", type=Path, metavar="RUN.json", help="written by `run --json`")
    rpt.add_argument("--out", type=Path, required=True, metavar="REPORT.html")
    rpt.add_argument("--sweep", type=Path, metavar="CSV", help="a sweep's CSV, for the privacy-utility chart")
    rpt.add_argument("--audit", type=Path, metavar="AUDIT.json", help="written by `audit --json`")
    rpt.add_argument("--data-dir", help="the full MNIST root the run used, if not the embedded subset")

    exp = sub.add_parser("export", help="a stored target's weights as safetensors, and its members beside them")
    exp.add_argument("name", metavar="NAME", help="a model in the store (or a shipped demo model)")
    exp.add_argument("--out", type=Path, required=True, metavar="FILE.safetensors",
                     help="also writes FILE.members.csv: the training set, one dataset index per line")
    exp.add_argument("--data-dir", help="the full MNIST root the model was trained on, if not the embedded subset")

    plant = sub.add_parser("plant", help="train the overfit demo's target with your drawings planted in its training "
                           "set; every attack's AUC at telling them from the ones kept out")
    plant.add_argument("--digits", type=Path, required=True, metavar="FILE.npz",
                       help="images (uint8 [n, 28, 28]), labels, and a boolean planted: which go into training")
    plant.add_argument("--seed", type=int, help="default: the shipped demo's, whose shadow and reference models "
                       "are then reused instead of trained")
    _common(plant)
    _runner_options(plant)
    plant.add_argument("--json", type=Path, metavar="PATH", help="write the result as JSON")

    bench = sub.add_parser("bench", help="seconds per stage and peak memory for each preset")
    bench.add_argument("--presets", nargs="+", choices=sorted(PRESETS), default=sorted(PRESETS, reverse=True))
    _common(bench)
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="full MNIST root (MNIST/raw/*-ubyte); default $MIA_DATA_DIR, else the embedded subset")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _runner_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="where jobs run: worker processes (local, the default), this process (inline), or Ray")
    p.add_argument("--workers", type=_positive(int), metavar="N", help="local worker processes (default: one per core)")
    p.add_argument("--ray-address", metavar="ADDRESS",
                   help=f"the Ray cluster to join (default ${RAY_ADDRESS_ENV}, else a local Ray instance)")


TRAIN_OPTIONS = ("epochs", "dropout", "weight_decay", "label_smoothing", "early_stopping", "dp_epsilon", "dp_noise",
                 "split_models", "split_held_out", "arch", "device")
EXPERIMENT_OPTIONS = ("train_size", "shadows", "attacks", "seed", "references", "non_members", "labels_only")


def config_from_args(args) -> ExperimentConfig:
    """The preset, with every option the command has and the user gave."""
    given = {k: v for k, v in vars(args).items() if v is not None}
    train = {k: given[k] for k in TRAIN_OPTIONS if k in given}
    if "dp_epsilon" in given:
        train["dp_noise"] = None  # one replaces the other, whatever the preset had
    if "dp_noise" in given:
        train["dp_epsilon"] = None
    top = {k: given[k] for k in EXPERIMENT_OPTIONS if k in given}
    base = config_file(given["config"]) if "config" in given else preset(args.preset)
    return replace(base.with_train(**train), **top)


def config_file(path: Path) -> ExperimentConfig:
    """The configuration in a JSON file: a run's JSON (its "config") or a bare configuration."""
    try:
        data = json.loads(Path(path).read_text())
        return ExperimentConfig.from_dict(data.get("config", data))
    except FileNotFoundError:
        raise ValueError(f"no configuration file {str(path)!r}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError) as err:
        raise ValueError(f"{path}: not a configuration JSON ({str(err)[:120]})") from None


def service_for(args, *, one_job: bool = False) -> Service:
    """The data, the model store and a job runner, as the command's options ask. A command that runs one job
    (`run`, `audit`) on the local executor keeps the job here and trains its models side by side in the
    worker processes; a command of many jobs (`sweep`, `reproduce`) runs its jobs side by side."""
    if args.ray_address and args.executor != "ray":
        raise ValueError("--ray-address needs --executor ray")
    if one_job and args.executor == "local":
        return Service(data_dir=args.data_dir, executor="inline", model_workers=args.workers or available_cores())
    return Service(data_dir=args.data_dir, executor=args.executor, workers=args.workers, address=args.ray_address)


def wait(job: Job, progress, *, what: str) -> dict:
    """A job's result, its progress on stderr; a kept result from an identical earlier run is said to be one."""
    if job.kept:
        print(f"{what}: the kept result of an identical earlier run ({job.runner.result_path(job.key)})",
              file=sys.stderr)
    return job.wait(progress)


def prepare_run(args):
    cfg = config_from_args(args)
    service = service_for(args, one_job=True)
    # An impossible split, shadow or reference plan, or a --save name that is bad, shipped or taken,
    # fails here, before any training.
    if args.members and not args.target_weights:
        raise ValueError("--members goes with --target-weights: the training set of a model trained elsewhere")
    if args.target_weights:
        if not args.members:
            raise ValueError("--target-weights needs --members: without the target's training set there is no "
                             "member to find, and nothing to measure")
        if args.save:
            raise ValueError("--save keeps models trained here; a brought target is not saved")
        brought = service.bring(args.target_weights, arch=cfg.train.arch, members=args.members)
        cfg = replace(cfg, train_size=len(brought["members"]))  # shadows train on as many records as the target
        job = service.submit_experiment(cfg, brought=brought)
    else:
        job = service.submit_experiment(cfg, save=args.save, overwrite=args.overwrite,
                                        hint="add --overwrite to replace it")

    def run() -> int:
        progress = TqdmProgress(disable=args.quiet)
        out = wait(job, progress, what="run")
        progress.close()
        service.shutdown()
        scores = out.pop("scores")
        out["command"] = "python -m mia_core " + " ".join(shlex.quote(a) for a in args.argv)
        print(run_summary(out))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(out, indent=1))
        if args.scores:
            write_csv(scores, args.scores)
        return 0
    return run


def prepare_reproduce(args):
    service = service_for(args)

    def run() -> int:
        progress = TqdmProgress(disable=args.quiet)
        plan, jobs = service.submit_reproduction(epochs=tuple(args.epochs), seeds=args.seeds)
        results = []
        for (setting, n_epochs, seed, _), job in zip(plan, jobs):
            results.append(wait(job, progress, what=f"{setting} epochs={n_epochs} seed={seed}"))
            print(f"{setting} epochs={n_epochs} seed={seed}: shadow auc {results[-1]['attacks']['shadow']['auc']:.3f}",
                  file=sys.stderr)
        progress.close()
        rows = reproduce_rows(plan, results)
        args.out.mkdir(parents=True, exist_ok=True)
        write_csv(rows, args.out / "results.csv")
        text = markdown(rows)
        (args.out / "results.md").write_text(text)
        print(text)
        return 0
    return run


def sweep_base(args) -> ExperimentConfig:
    """The configuration a sweep's grid starts from: the preset, with the command's other options."""
    return replace(preset(args.preset).with_train(device=args.device), seed=args.seed,
                   **{k: v for k, v in {"attacks": args.attacks, "shadows": args.shadows}.items() if v is not None})


def prepare_sweep(args):
    grid = parse_grid(args.grid)
    base = sweep_base(args)
    service = service_for(args)
    for point in grid_points(grid):  # every point's configuration and data plan is checked before training starts
        check_feasible(configure(base, point), service.digits)

    def run() -> int:
        progress = TqdmProgress(disable=args.quiet)
        points = service.submit_sweep(base, grid)  # all at once: they run in parallel on the workers
        runs = []
        for i, (point, cfg, job) in enumerate(points, 1):
            run = DefenceRun.from_result(point, cfg, wait(job, progress, what=f"point {i}/{len(points)}"))
            runs.append(run)
            shadow = run.attacks.get("shadow")
            print(f"point {i}/{len(points)}: " + ", ".join(f"{k}={run.settings[k]}" for k in grid)
                  + f"; test accuracy {run.test_accuracy:.4f}, shadow AUC "
                  f"{shadow.auc if shadow else float('nan'):.3f}", file=sys.stderr)
        progress.close()
        write_csv([run.to_row() for run in runs], args.out)
        print(f"wrote {len(runs)} points to {args.out}")
        return 0
    return run


def canary_count(args) -> int:
    """The audit's canaries: --canaries, else the default for its kind."""
    from .audit.one_run import BLACK_BOX_CANARIES
    from .audit.whitebox import WHITE_BOX_CANARIES

    return args.canaries or (WHITE_BOX_CANARIES if args.white_box else BLACK_BOX_CANARIES)


def prepare_audit(args):
    from .audit.guesses import AuditResult

    cfg = config_from_args(args)
    service = service_for(args, one_job=True)
    job = service.submit_audit(cfg, count=canary_count(args), confidence=args.confidence,
                               white_box=args.white_box)  # fails here if impossible

    def run() -> int:
        progress = TqdmProgress(disable=args.quiet)
        audit = wait(job, progress, what="audit")
        progress.close()
        print(AuditResult.from_dict(audit).summary())
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"config": cfg.to_dict(), "audit": audit}, indent=1))
        return 0
    return run


def prepare_plant(args):
    from .workshop.planting import Drawings, PlantOutcome
    from .present.tables import plant_summary

    drawings = Drawings.from_npz(args.digits)  # a bad file fails here, with what is wrong with it
    service = service_for(args, one_job=True)
    job = service.submit_plant(drawings, seed=args.seed)

    def run() -> int:
        progress = TqdmProgress(disable=args.quiet)
        out = wait(job, progress, what="plant")
        progress.close()
        service.shutdown()
        out["command"] = "python -m mia_core " + " ".join(shlex.quote(a) for a in args.argv)
        print(plant_summary(PlantOutcome.from_json(out)))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(out, indent=1))
        return 0
    return run


def read_json(path: Path, what: str, key: str) -> dict:
    """A JSON file holding `key`, or a ValueError naming the file and what is wrong with it."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"no {what} file {str(path)!r}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, dict) or key not in data:
        raise ValueError(f"{path}: not {what} (no {key!r} in it)")
    return data


def prepare_report(args):
    from .present.html_report import build
    from .experiment.sweep import read_sweep

    result = read_json(args.run, "a run's JSON (python -m mia_core run --json)", "roc")
    audit = read_json(args.audit, "an audit's JSON (python -m mia_core audit --json)", "audit")["audit"] \
        if args.audit else None
    if args.sweep and not args.sweep.is_file():
        raise ValueError(f"no sweep file {str(args.sweep)!r}")
    sweep = read_sweep(args.sweep) if args.sweep else None
    digits = load_digits(args.data_dir)
    if digits.source != result["data"]["source"]:  # the exposed records' indices mean other digits here
        print(f"note: the run used {result['data']['source']}, not {digits.source}: no record images", file=sys.stderr)
        digits = None

    def job() -> int:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(build(result, digits=digits, sweep=sweep, audit=audit))
        print(f"wrote {args.out}")
        return 0
    return job


def prepare_export(args):
    from .storage.store import default_store
    from .storage.weights import export_target

    digits = load_digits(args.data_dir)
    weights, members = export_target(default_store(shipped=not (args.data_dir or os.environ.get(DATA_DIR_ENV))),
                                     args.name, digits, args.out)  # a missing or unreadable model fails here

    def run() -> int:
        print(f"wrote {weights} and {members}")
        return 0
    return run


def prepare_bench(args):
    """The benchmarks live beside the package (benchmarks/bench.py): run there, as `python -m benchmarks.bench`."""
    load_digits(args.data_dir)
    cmd = [sys.executable, "-m", "benchmarks.bench", "--presets", *args.presets, "--device", args.device]
    cmd += ["--data-dir", args.data_dir] if args.data_dir else []
    return lambda: subprocess.call(cmd, cwd=Path(__file__).resolve().parents[1])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv  # for the "command" in a run's JSON
    prepare = {"run": prepare_run, "reproduce": prepare_reproduce, "sweep": prepare_sweep, "audit": prepare_audit,
               "report": prepare_report, "export": prepare_export, "plant": prepare_plant,
               "bench": prepare_bench}[args.command]
    try:  # everything a user can get wrong is checked here, before the long work starts
        job = prepare(args)
    except RayClusterError as err:  # what to set for the cluster, in one line
        print(f"{parser.prog} {args.command}: {err}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError, StoreError) as err:
        parser.error(str(err))
    try:
        return job()
    except JobFailed as err:
        print(f"{parser.prog} {args.command}: a job failed: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
