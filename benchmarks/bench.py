"""`python -m benchmarks.bench` (or `make bench`, or `python -m mia_core bench`): from one run, on this machine:

- one model's training speed: samples/s, and GFLOP/s against the CPU's FP32 peak;
- many models (shadows, references): models/s here, each alone and side by side in one network (`training/stacked.py`),
  and in worker processes;
- in ROUNDS interleaved rounds, each ratio's median and range: a plain PyTorch loop training the overfit
  preset's models one after another (the baseline), the preset's shadow and reference models in running worker
  processes against it, and the overfit preset end to end against it; before them, one warm-up run of the plain
  loop and of the preset, printed and not counted;
- each preset end to end, one fresh process each (seconds per stage, peak memory);
- the demo build; planting an attendee's drawings; the server's time for one drawn digit; on CUDA, the vmap
  ensemble; with IBM ART installed (requirements-bench.txt), our shadow pipeline against ART's
  (`benchmarks/art_compare.py`).

What trains here (one model, and many in this process) runs with the allocator setting the workers have
(`jobs.executors.keep_freed_memory`), so that it measures what they do.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from mia_core.config import PRESETS, preset
from mia_core.data import DATA_DIR_ENV, load_digits
from mia_core.jobs.executors import available_cores, keep_freed_memory
from mia_core.jobs.model_pool import ProcessPool
from mia_core.jobs.tasks import one_thread
from mia_core.experiment.membership import membership_report
from mia_core.models import build_model
from mia_core.experiment.run import eval_records, needs_references, run_experiment, shadow_specs, split_for
from mia_core.experiment.references import reference_specs
from mia_core.training import train_model
from mia_core.training.many import balanced_keep, train_ensemble, train_sequential
from mia_core.training.pool import InProcess, tasks, train_spec
from mia_core.storage.targets import REFERENCE_ATTACKS, SHADOW_ATTACKS, loaded_from_result

ROOT = Path(__file__).resolve().parents[1]  # the project: where `python -m` finds scripts/ and benchmarks/
ROUNDS = 3  # the ratios against the plain loop are measured this many times, interleaved, and their median shown
PRESET_SECONDS = 60.0  # the most a workshop should wait for the overfit preset, imports included


def bench(presets, *, data_dir=None, device="auto") -> int:
    keep_freed_memory()
    one_model_speed(data_dir)
    many_models_speed(data_dir)
    runs = against_plain_loop(data_dir, device=device, rounds=ROUNDS)
    print(f"{'preset':10s} {'target s':>9s} {'shadows s':>10s} {'attacks s':>10s} {'wall s':>8s} {'peak MB':>8s}"
          f" {'worker MB':>9s}  {'test acc':>8s} {'shadow AUC':>10s}   (target and shadows: each model's own seconds,"
          " summed; wall: the whole process, imports included; peak resident memory of the process and of its"
          " largest worker)")
    for name in presets:
        wall, r = runs.get(name) or run_preset(name, data_dir, device=device)  # overfit: its last round's run
        s = r["seconds"]
        print(f"{name:10s} {s['target']:9.1f} {s['shadows']:10.1f} {s['attacks']:10.1f} {wall:8.1f}"
              f" {r['peak_rss_mb']:8.0f} {r['worker_peak_rss_mb']:9.0f}  {r['target']['test_accuracy']:8.4f}"
              f" {r['attacks']['shadow']['auc']:10.3f}")
    demo_build()
    plant_speed(data_dir)
    if torch.cuda.is_available():
        ensemble_speed(data_dir, device=device)
    query_latency(data_dir)
    art_comparison(data_dir)
    return 0


def fp32_peak_gflops(cores: int) -> tuple[float, str]:
    """This CPU's FP32 peak from what it reports: cores x floats per FMA unit x 2 (a fused multiply-add) x 2 FMA
    units (what AVX-512 and AVX2 server cores have; an assumption, stated) x the clock /proc/cpuinfo gives.
    AMD's Zen 4 (family 25) runs AVX-512 on 256-bit units, 8 floats each."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    field = {}
    for line in info.splitlines():
        name, _, value = line.partition(":")
        field.setdefault(name.strip(), value.strip())
    flags = f" {field.get('flags', '')} "
    zen4 = field.get("vendor_id") == "AuthenticAMD" and field.get("cpu family") == "25"
    width = 16 if " avx512f " in flags and not zen4 else 8 if " avx2 " in flags else 4
    mhz = [float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")]
    ghz = (max(mhz) / 1000) if mhz else 2.0
    return cores * width * 2 * 2 * ghz, f"{cores} cores x {width} floats x 2 (FMA) x 2 units x {ghz:.2f} GHz"


def one_model_speed(data_dir=None) -> None:
    """One overfit-preset LeNet on one thread: samples/s, and FLOP/s from the model's counted FLOPs."""
    cfg = preset("overfit").train
    digits = load_digits(data_dir)
    x, y = digits.tensors(np.arange(preset("overfit").train_size))
    model = build_model(cfg.arch)
    with FlopCounterMode(display=False) as counter:  # forward and backward of one batch
        torch.nn.functional.cross_entropy(model(x[:cfg.batch_size]), y[:cfg.batch_size]).backward()
    flops_per_sample = counter.get_total_flops() / cfg.batch_size
    with one_thread():
        start = time.perf_counter()
        train_model(cfg, x, y, seed=0)
        seconds = time.perf_counter() - start
    samples = cfg.epochs * len(y) / seconds
    achieved = samples * flops_per_sample / 1e9
    peak, how = fp32_peak_gflops(1)
    print(f"one model, one thread ({len(y)} digits x {cfg.epochs} epochs, batch {cfg.batch_size}): {samples:,.0f} samples/s;"
          f" {flops_per_sample / 1e6:.2f} MFLOP a sample (forward + backward, counted) -> {achieved:.1f} GFLOP/s,"
          f" {achieved / peak:.1%} of one core's FP32 peak ({peak:.0f} GFLOP/s = {how}); this machine has"
          f" {available_cores()} cores")


SHADOWS = 8  # the overfit preset's shadow models: the batch the many-models figures train


def many_models_speed(data_dir=None, *, count: int = SHADOWS) -> None:
    """Shadow-shaped models in this process: on one thread each alone, one after another, and side by side in the
    stacks `training.pool.tasks` makes of them; with torch's threads, in those stacks. The same models side by
    side in worker processes are measured against the plain loop, in rounds."""
    specs, digits = _shadow_specs(data_dir, count)
    rates = {}
    with one_thread():
        start = time.perf_counter()
        for spec in specs:
            train_spec(spec, digits)
        rates["1 thread, each alone"] = count / (time.perf_counter() - start)
        start = time.perf_counter()
        InProcess().train(specs, digits)
        rates["1 thread, side by side"] = count / (time.perf_counter() - start)
    start = time.perf_counter()
    InProcess().train(specs, digits)
    rates[f"{torch.get_num_threads()} threads, side by side"] = count / (time.perf_counter() - start)
    sizes = "+".join(str(len(task)) for task in tasks(specs))
    gain = rates["1 thread, side by side"] / rates["1 thread, each alone"]
    print(f"{count} shadow models (overfit preset) one task after another in this process (side by side: stacks of"
          f" {sizes}), models/s: " + ", ".join(f"{k} {v:.2f}" for k, v in rates.items())
          + f"; side by side / alone on 1 thread = {gain:.2f}x")


def _shadow_specs(data_dir, count: int):
    digits = load_digits(data_dir)
    cfg = replace(preset("overfit"), shadows=count)
    return [training_only(spec) for spec in shadow_specs(cfg, split_for(cfg, digits))], digits


def training_only(spec):
    """A model spec without the records a run's model answers once trained: the plain loop it is measured against
    trains and asks nothing."""
    return replace(spec, answer=np.zeros(0, np.int64), answer_labels=False)


def _reference_specs(data_dir):
    """The overfit preset's reference models (as many as a run with LiRA or RMIA trains): shadow-shaped, 200
    records each, from the pool around the scored records."""
    digits = load_digits(data_dir)
    cfg = preset("overfit")
    splits = split_for(cfg, digits)
    training = reference_specs(cfg, digits, eval_records(cfg, splits)[0], splits.shadow_pool, count=cfg.references)
    return [training_only(spec) for spec in training.specs]


def pool_speed(data_dir=None, *, count: int = SHADOWS) -> tuple[float, float, float]:
    """Models/s in one worker process per core: `count` shadow-shaped models with the workers' start-up counted
    (the first time, the start of the server they fork from too), the same on the same workers running (a
    server's, or a sweep's), and the preset's reference models on them."""
    specs, digits = _shadow_specs(data_dir, count)
    references = _reference_specs(data_dir)
    start = time.perf_counter()  # the worker processes' start-up counts here
    pool = ProcessPool(available_cores(), {"dir": data_dir, "fingerprint": digits.fingerprint})
    pool.train(specs, digits)
    started = count / (time.perf_counter() - start)
    start = time.perf_counter()  # a second batch on the same, running workers
    pool.train(specs, digits)
    running = count / (time.perf_counter() - start)
    start = time.perf_counter()
    pool.train(references, digits)
    running_references = len(references) / (time.perf_counter() - start)
    pool.shutdown()
    return started, running, running_references


def against_plain_loop(data_dir=None, *, device="auto", rounds: int = ROUNDS) -> dict[str, tuple[float, dict]]:
    """`rounds` rounds of: the plain loop, shadow models in worker processes, the overfit preset end to end.
    Prints each round and each ratio's median and range. Returns the last overfit run, as `run_preset` does."""
    references = preset("overfit").references
    print(f"against the plain loop ({plain_models()} models one after another, {torch.get_num_threads()} threads),"
          f" {rounds} rounds: models/s of {SHADOWS} shadow models in {available_cores()} worker processes (started"
          f" for them: in round 1 with the server they fork from), then on them running, then {references} reference"
          " models on them; and the overfit preset's whole process")
    # Once, first, not counted: a machine's first process after a while can read its libraries from the disk for
    # many seconds. A warm-up run, as `hyperfine --warmup` makes, puts every round on the footing of a second run.
    warm_loop, warm_preset = plain_loop()[0], run_preset("overfit", data_dir, device=device)[0]
    print(f"  warm-up, not counted: plain loop {warm_loop:.1f} s the whole process, overfit preset {warm_preset:.1f} s")
    started, running, refs, preset_ratio, preset_seconds, last = [], [], [], [], [], None
    for i in range(1, rounds + 1):
        loop_wall, loop_training = plain_loop()
        baseline = plain_models() / loop_training
        rates = pool_speed(data_dir)
        last = run_preset("overfit", data_dir, device=device)
        started.append(rates[0] / baseline)
        running.append(rates[1] / baseline)
        refs.append(rates[2] / baseline)
        preset_ratio.append(last[0] / loop_wall)
        preset_seconds.append(last[0])
        print(f"  round {i}: plain loop {loop_training:.1f} s training ({baseline:.2f} models/s), {loop_wall:.1f} s"
              f" the whole process; shadows on workers started for them {rates[0]:.2f} models/s"
              f" ({started[-1]:.2f}x), running {rates[1]:.2f} ({running[-1]:.2f}x); references running"
              f" {rates[2]:.2f} ({refs[-1]:.2f}x); overfit preset {last[0]:.1f} s ({preset_ratio[-1]:.2f}x)")
    for what, ratios in (("shadows, workers started for them, models/s", started),
                         ("shadows, running workers, models/s", running),
                         ("references, running workers, models/s", refs),
                         ("overfit preset, seconds (both whole processes, imports included)", preset_ratio)):
        print(f"  {what}: median {np.median(ratios):.2f}x the plain loop (range {min(ratios):.2f}-{max(ratios):.2f}x)")
    print(f"  overfit preset, whole process: median {np.median(preset_seconds):.1f} s (range {min(preset_seconds):.1f}"
          f"-{max(preset_seconds):.1f} s), {sum(s <= PRESET_SECONDS for s in preset_seconds)} of {rounds} rounds"
          f" within {PRESET_SECONDS:.0f} s")
    return {"overfit": last}


def run_preset(name: str, data_dir=None, *, device="auto") -> tuple[float, dict]:
    """`python -m mia_core run --preset NAME` in a fresh process: its whole seconds, and its JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, "-m", "mia_core", "run", "--preset", name, "--quiet", "--json", str(out),
               "--device", device] + (["--data-dir", str(data_dir)] if data_dir else [])
        start = time.perf_counter()
        # A fresh results folder: an identical run kept from before would be answered without training.
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "MIA_JOBS_DIR": tmp})
        return time.perf_counter() - start, json.loads(out.read_text())


def plain_models() -> int:
    """The models the overfit preset trains: its target, its shadows and, for LiRA and RMIA, its reference models."""
    cfg = preset("overfit")
    return 1 + cfg.shadows + (cfg.references if needs_references(cfg.attacks) else 0)


def plain_loop() -> tuple[float, float]:
    """A plain PyTorch loop (`plain_loop.py`) training as many LeNets as the overfit preset (`plain_models`: each on
    the preset's training-set size for its epochs, batch 64, Adam) one after another with torch's default threads, as
    the sequential code did before the job runner. Returns its whole process's seconds, imports included, and its
    training's."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "benchmarks.plain_loop", str(plain_models())], check=True,
                         capture_output=True, text=True, cwd=ROOT)
    wall, training = time.perf_counter() - start, float(out.stdout.split()[-1])
    return wall, training


def demo_build() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "scripts.build_demo_models", "--out", str(Path(tmp) / "models")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=ROOT)
        print(f"demo build (python -m scripts.build_demo_models): {time.perf_counter() - start:.1f} s")


def plant_speed(data_dir=None) -> None:
    """Plant your digits from the command line (as the Membership page's job runs): the sample drawings, 10
    planted and 10 kept out, into the overfit demo's target; the shipped attacker is reused on the embedded data."""
    sample = ROOT / "assets" / "drawings" / "sample.npz"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plant.json"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mia_core", "plant", "--digits", str(sample), "--json", str(out),
                        "--quiet"] + (["--data-dir", str(data_dir)] if data_dir else []), check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        r = json.loads(out.read_text())
    print(f"plant your digits ({r['data']['planted']} planted, {r['data']['kept_out']} kept out; attacker: "
          f"{r['attacker']}): {wall:.1f} s for the whole process; the job's stages "
          + ", ".join(f"{k} {v:.1f} s" for k, v in r["seconds"].items()) + "; AUC planted vs kept out: "
          + ", ".join(f"{a} {r['attacks'][a]['auc']:.2f}" for a in ("loss", "lira_offline", "rmia")))


def art_comparison(data_dir=None) -> None:
    """`python -m benchmarks.art_compare` (its own rounds) where IBM ART is installed; else how to get it."""
    if find_spec("art") is None:
        print("shadow pipeline against IBM ART: not run, ART is not installed (pip install -r requirements-bench.txt)")
        return
    print("shadow pipeline against IBM ART (python -m benchmarks.art_compare):", flush=True)
    env = {**os.environ, **({DATA_DIR_ENV: str(data_dir)} if data_dir else {})}
    subprocess.run([sys.executable, "-m", "benchmarks.art_compare"], check=True, env=env, cwd=ROOT)


def ensemble_speed(data_dir=None, *, device="auto", count: int = 8) -> None:
    """Models per second: the vmap ensemble against the same models trained one after another."""
    digits = load_digits(data_dir)
    cfg = preset("overfit").train
    cfg = type(cfg)(**{**cfg.__dict__, "epochs": 20, "device": device})
    index = np.random.default_rng(0).permutation(len(digits))[:400]
    x, y = digits.tensors(index)
    keep = balanced_keep(count, len(index), seed=0)
    rates = {}
    for name, trainer in (("vmap ensemble", train_ensemble), ("sequential", train_sequential)):
        start = time.perf_counter()
        trainer(cfg, x, y, keep, seed=0)
        rates[name] = count / (time.perf_counter() - start)
    print(f"reference models ({count} LeNets, 200 digits each, 20 epochs, {cfg.resolved_device()}): "
          + ", ".join(f"{k} {v:.2f} models/s" for k, v in rates.items())
          + f"; ensemble / sequential = {rates['vmap ensemble'] / rates['sequential']:.2f}")


def query_latency(data_dir=None, repeats: int = 50) -> None:
    """Server work per drawn digit: preprocess, target logits, every attack's member probability."""
    digits = load_digits(data_dir)
    cfg = replace(preset("overfit").with_train(epochs=5), shadows=2, references=8,  # small: only the query is timed
                  attacks=SHADOW_ATTACKS + REFERENCE_ATTACKS)
    loaded = loaded_from_result("bench", run_experiment(cfg, digits), digits)
    attacks = loaded.attacks
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255  # opaque black, as the app's canvas
    canvas[60:220, 130:150, :3] = 255  # a drawn "1"

    def once():
        return membership_report(canvas, loaded.target.model, attacks,
                                 reference_of=lambda img: loaded.reference_query(digits, image=img))

    once()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    print(f"drawn-digit query (preprocess + predict + {len(attacks)} attacks): median {np.median(times) * 1000:.1f} ms,"
          f" max {np.max(times) * 1000:.1f} ms over {repeats} runs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", choices=sorted(PRESETS), default=sorted(PRESETS, reverse=True))
    parser.add_argument("--data-dir", help="full MNIST root (MNIST/raw/*-ubyte); default the embedded subset")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = parser.parse_args(argv)
    load_digits(args.data_dir)  # a bad data folder fails before any timing
    return bench(args.presets, data_dir=args.data_dir, device=args.device)


if __name__ == "__main__":
    sys.exit(main())
