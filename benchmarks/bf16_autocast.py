"""What bf16 autocast would give the training: the overfit preset's target (200 members, 80 epochs, batch 64, Adam,
channels-last, one torch thread) trained by one loop in float32 and under `torch.autocast("cpu", torch.bfloat16)`,
in interleaved rounds. Prints each run's seconds and test accuracy, and which bf16 instructions this CPU reports.

    python -m benchmarks.bf16_autocast [--rounds 3]

The project trains in float32 (benchmarks/README.md): this is the measurement behind that choice.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from mia_core.config import preset
from mia_core.data import load_digits
from mia_core.models import build_model
from mia_core.experiment.run import split_for


def cpu_bf16_flags() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    flags = set(cpuinfo.read_text().split()) if cpuinfo.exists() else set()
    found = sorted(f for f in flags if f in ("avx512_bf16", "amx_bf16", "amx_tile"))
    return ", ".join(found) or "none"


def train(x, y, *, bf16: bool, epochs: int, batch_size: int, lr: float, seed: int) -> tuple[torch.nn.Module, float]:
    torch.manual_seed(seed)
    model = build_model("lenet5").to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    order = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in torch.randperm(len(y), generator=order).split(batch_size):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = F.cross_entropy(model(x[batch]), y[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval(), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    torch.set_num_threads(1)
    cfg = preset("overfit")
    digits = load_digits(None)
    splits = split_for(cfg, digits)
    (x, y), (x_test, y_test) = digits.tensors(splits.members), digits.tensors(splits.test)
    print(f"bf16 instructions this CPU reports: {cpu_bf16_flags()}")
    seconds = {False: [], True: []}
    for i in range(1, args.rounds + 1):
        for bf16 in (False, True):
            model, s = train(x, y, bf16=bf16, epochs=cfg.train.epochs, batch_size=cfg.train.batch_size,
                             lr=cfg.train.lr, seed=cfg.seed)
            with torch.no_grad():
                accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
            seconds[bf16].append(s)
            print(f"round {i}: {'bf16 autocast' if bf16 else 'float32'} {s:.2f} s, test accuracy {accuracy:.3f}")
    ratio = np.median(seconds[True]) / np.median(seconds[False])
    print(f"median seconds: float32 {np.median(seconds[False]):.2f}, bf16 autocast {np.median(seconds[True]):.2f}"
          f" ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
