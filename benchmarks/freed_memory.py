"""What keeping freed memory in the heap (`mia_core.jobs.executors.keep_freed_memory`, which every worker process
runs) gives the training: the overfit preset's 8 shadow models as the workers train them (two stacks of 4, one
torch thread each), in two fresh processes at once, with glibc's default allocator and with the setting, in
interleaved rounds. Prints each pair's seconds (the slower of the two) and minor page faults (both together).

    python -m benchmarks.freed_memory [--rounds 3]
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def child(kept: bool, stack: int) -> None:
    """One worker's share: stack `stack` of the shadows' stacks, trained here; prints its seconds and faults."""
    import torch

    from mia_core.config import preset
    from mia_core.data import load_digits
    from mia_core.jobs.executors import keep_freed_memory
    from mia_core.experiment.run import shadow_specs, split_for
    from mia_core.training.pool import tasks, train_task

    torch.set_num_threads(1)
    if kept:
        keep_freed_memory()
    cfg, digits = preset("overfit"), load_digits(None)
    specs = shadow_specs(cfg, split_for(cfg, digits))
    task = tasks(specs)[stack]
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    train_task([specs[i] for i in task], digits)
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults}))


def pair(kept: bool) -> tuple[float, int]:
    """Both stacks at once, in two fresh processes (imports outside the clock): the slower's seconds, all faults."""
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.freed_memory", "--child", str(int(kept)), str(k)],
                              stdout=subprocess.PIPE, text=True) for k in (0, 1)]
    out = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError("a training process failed")
    return max(o["seconds"] for o in out), sum(o["faults"] for o in out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(bool(args.child[0]), args.child[1])
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    seconds = {False: [], True: []}
    for i in range(1, args.rounds + 1):
        for kept in (False, True):
            s, faults = pair(kept)
            seconds[kept].append(s)
            print(f"round {i}: {'freed memory kept' if kept else 'default allocator'}: 8 shadows (4 + 4, two"
                  f" processes) in {s:.2f} s = {8 / s:.2f} models/s, {faults:,} minor page faults", flush=True)
    default, kept = np.median(seconds[False]), np.median(seconds[True])
    print(f"median seconds: default {default:.2f}, kept {kept:.2f}: {default / kept:.2f}x the models/s")


if __name__ == "__main__":
    main()
