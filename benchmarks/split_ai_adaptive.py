"""Split-AI against an attacker who queries a nudged copy of each record instead of the record itself.

    python -m benchmarks.split_ai_adaptive [--seed 0] [--nudge 0.01]

Split-AI recognises a member only by an exact match, so a copy changed by an invisible amount is
answered as a non-member, by sub-models most of which trained on it (Tang et al. 2022 discuss this
adaptive attack; their self-distillation step is what answers it). Prints the loss attack's AUC on
the `split` preset's target for exact and nudged queries, and on the plain `overfit` target.
"""

import argparse
from dataclasses import replace

import torch

from mia_core.attacks.signals import SIGNALS
from mia_core.config import preset
from mia_core.data import load_digits
from mia_core.metrics import chance_band, roc
from mia_core.experiment.run import train_target
from mia_core.training import predict_logits


def loss_auc(target, digits, *, nudge: float, seed: int) -> float:
    index, is_member = target.eval_records()
    x, _ = digits.tensors(index)
    if nudge:
        x = x + nudge * torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    return roc(SIGNALS["loss"](predict_logits(target.model, x), digits.labels[index]), is_member).auc


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nudge", type=float, default=0.01, help="std of the Gaussian noise added to each query")
    args = p.parse_args(argv)
    digits = load_digits()
    for name in ("split", "overfit"):
        target = train_target(replace(preset(name), seed=args.seed), digits)
        exact = loss_auc(target, digits, nudge=0.0, seed=args.seed)
        nudged = loss_auc(target, digits, nudge=args.nudge, seed=args.seed)
        print(f"{name:8s} test accuracy {target.test_accuracy:.3f}; loss-attack AUC: exact queries {exact:.3f}, "
              f"queries + N(0, {args.nudge:g}) noise {nudged:.3f}")
    split = preset("split")
    low, high = chance_band(split.eval_members, split.non_members)
    print(f"a coin flip's AUC falls in {low:.3f}-{high:.3f} (95%)")


if __name__ == "__main__":
    main()
