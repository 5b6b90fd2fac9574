"""Where a preset's run spends the cores: `python -m mia_core run --preset NAME` in a fresh process (and a fresh
results folder), its processes' CPU use sampled from /proc while it runs.

    python -m benchmarks.preset_timeline [--preset overfit] [--every 0.25]

Prints one row per sample: seconds since the start, then the cores each kind of process used since the last
sample (the command itself, the model workers' server, the workers together), and their sum; then the run's
seconds, each kind's CPU seconds, the cores used on average, and the core-seconds no process used. Linux only.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.procfs import children, command_line, cpu_seconds

KINDS = ("command", "server", "workers")


def kinds_of(pid: int) -> dict[int, str]:
    """The command, the workers' server it started (a forkserver) and that server's children, by process id."""
    found = {pid: "command"}
    for child in children(pid, recursive=False):
        if "forkserver" in command_line(child):
            found[child] = "server"
            found.update({worker: "workers" for worker in children(child)})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="overfit")
    parser.add_argument("--every", type=float, default=0.25, help="seconds between samples")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run = subprocess.Popen([sys.executable, "-m", "mia_core", "run", "--preset", args.preset, "--quiet",
                                "--json", str(Path(tmp) / "run.json")], stdout=subprocess.DEVNULL,
                               env={**os.environ, "MIA_JOBS_DIR": tmp})
        seen: dict[int, tuple[str, float]] = {}  # pid -> (kind, CPU seconds when last sampled)
        totals = dict.fromkeys(KINDS, 0.0)
        print(f"{'s':>6s} " + " ".join(f"{k:>8s}" for k in KINDS) + f" {'cores':>6s}  (of {cores})")
        last = start
        while run.poll() is None:
            time.sleep(args.every)
            now = time.perf_counter()
            used = dict.fromkeys(KINDS, 0.0)
            for pid, kind in kinds_of(run.pid).items():
                seconds = cpu_seconds(pid)
                used[kind] += max(seconds - seen.get(pid, (kind, 0.0))[1], 0.0)
                seen[pid] = (kind, seconds)
            for kind in KINDS:
                totals[kind] += used[kind]
            print(f"{now - start:6.2f} " + " ".join(f"{used[k] / (now - last):8.2f}" for k in KINDS)
                  + f" {sum(used.values()) / (now - last):6.2f}", flush=True)
            last = now
        wall = time.perf_counter() - start
    if run.returncode:
        sys.exit(f"the run failed with exit code {run.returncode}")
    busy = sum(totals.values())
    print(f"{args.preset} preset: {wall:.1f} s; CPU seconds: " + ", ".join(f"{k} {totals[k]:.1f}" for k in KINDS)
          + f" (a process's last {args.every:g} s before it exits is not counted); {busy / wall:.2f} of {cores} cores"
          f" used on average; {cores * wall - busy:.1f} core-seconds unused")


if __name__ == "__main__":
    main()
