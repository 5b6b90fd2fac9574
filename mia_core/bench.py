"""`python -m mia_core bench`: seconds per stage and peak memory, one fresh process per preset."""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .data import load_digits


def bench(presets, *, data_dir=None, device="auto") -> int:
    print(f"{'preset':10s} {'target s':>9s} {'shadows s':>10s} {'attacks s':>10s} {'total s':>8s} {'peak RSS MB':>12s}"
          f"  {'test acc':>8s} {'shadow AUC':>10s}")
    for name in presets:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "r.json"
            cmd = [sys.executable, "-m", "mia_core", "run", "--preset", name, "--quiet", "--json", str(out),
                   "--device", device] + (["--data-dir", str(data_dir)] if data_dir else [])
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            r = json.loads(out.read_text())
        s = r["seconds"]
        print(f"{name:10s} {s['target']:9.1f} {s['shadows']:10.1f} {s['attacks']:10.1f} {sum(s.values()):8.1f}"
              f" {r['peak_rss_mb']:12.0f}  {r['target']['test_accuracy']:8.4f} {r['attacks']['shadow']['auc']:10.3f}"
              f"   (process wall time {wall:.1f} s, including imports)")
    ensemble_speed(data_dir, device=device)
    query_latency(data_dir)
    return 0


def ensemble_speed(data_dir=None, *, device="auto", count: int = 8) -> None:
    """Models per second: the vmap ensemble against the same models trained one after another."""
    from .config import preset
    from .ensemble import balanced_keep, train_ensemble, train_sequential

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
    from dataclasses import replace

    from .config import preset
    from .membership import membership_report
    from .pipeline import run_experiment
    from .workflows import REFERENCE_ATTACKS, SHADOW_ATTACKS, loaded_from_result

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
