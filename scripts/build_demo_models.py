"""Build the demo models shipped in assets/models/: both demo targets (overfitted and defended) with their
shadow and reference models, from the embedded digits, with fixed seeds and one torch thread per model (as
every job trains), so the same code gives the same weights. The app reads them and never writes to them.

    python -m scripts.build_demo_models            # into assets/models (`python -m benchmarks.bench` times it)
    python -m scripts.build_demo_models --small --out /tmp/demo   # the seconds-long test configuration
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from mia_core.data import load_embedded
from mia_core.jobs.executors import available_cores
from mia_core.jobs.model_pool import ProcessPool
from mia_core.jobs.tasks import one_thread
from mia_core.progress import TqdmProgress
from mia_core.storage.store import SHIPPED_ROOT, ModelStore
from mia_core.training.pool import InProcess
from mia_core.storage.targets import build_demo, demo_configs

LIMIT_MB = 25  # what the repository carries


def build(out: Path, *, small: bool = False, workers: int = 1, progress=None) -> dict:
    """Build into a fresh folder beside `out`, then put it in `out`'s place: `out` is whole, old or new.
    `workers` > 1 trains the shadow and reference models side by side in that many processes."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=".build-", dir=out.parent))
    digits = load_embedded()
    trainer = ProcessPool(workers, {"dir": None, "fingerprint": digits.fingerprint}) if workers > 1 else InProcess()
    try:
        with one_thread():
            results = build_demo(ModelStore(fresh), digits, configs=demo_configs(small=small), trainer=trainer,
                                 progress=progress or TqdmProgress(disable=True))
    finally:
        trainer.shutdown()
    if out.exists():
        shutil.rmtree(out)
    fresh.rename(out)
    return results


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SHIPPED_ROOT)
    parser.add_argument("--small", action="store_true", help="the seconds-long configuration the tests use")
    parser.add_argument("--workers", type=int, default=available_cores(), help="processes (default: one per core)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = build(args.out, small=args.small, workers=args.workers, progress=TqdmProgress())
    for name, result in results.items():
        print(f"{name}: test accuracy {result.target.test_accuracy:.4f}, shadow AUC "
              f"{result.attacks['shadow'].metrics.auc:.3f}")
    mb = size_mb(args.out)
    print(f"built in {time.perf_counter() - start:.1f} s; {args.out} holds {mb:.1f} MB (limit {LIMIT_MB} MB)")
    return 0 if mb <= LIMIT_MB or args.small else 1


if __name__ == "__main__":
    sys.exit(main())
