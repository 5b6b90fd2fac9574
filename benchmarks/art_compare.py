"""Our shadow-model attack against IBM ART's (`ShadowModels` + `MembershipInferenceBlackBox`),
on the very same target, shadow count, epochs and shadow data: ART's shadow k trains on the very
records our shadow k trains on, and keeps out the very records ours keeps out.

    pip install adversarial-robustness-toolbox==1.20.1
    python -m benchmarks.art_compare [--preset overfit] [--seed 0] [--workers N] [--rounds 2]

Our shadows train side by side in one process per core (one torch thread each), ART's one after another
with torch's default threads. Prints both pipelines' seconds (shadow training + attack model + scoring), their ratio,
and each one's AUC and TPR at 1% FPR on the held-out target members and non-members. Ours is timed on running
worker processes (the app's job runner, or a sweep's next point) in every round, and in the first round also with
its workers started inside the clock, the server they fork from included (a command's first job). The rounds
interleave both pipelines, and the ratios' median is shown: on a shared machine the same pipeline's seconds vary
by up to a quarter from one run to the next.
"""

import argparse
import os
import time

import numpy as np
import torch

from mia_core.attacks import make_attack
from mia_core.config import preset
from mia_core.data import DATA_DIR_ENV, load_digits
from mia_core.metrics import evaluate
from mia_core.models import build_model
from mia_core.experiment.run import shadow_draw, train_shadows, train_target
from mia_core.present.tables import with_interval
from mia_core.jobs.executors import available_cores
from mia_core.training import predict_logits
from mia_core.jobs.model_pool import ProcessPool
from mia_core.training.pool import InProcess


def art_pipeline(cfg, digits, target, eval_index, is_member):
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox, ShadowModels
    from art.estimators.classification import PyTorchClassifier

    def classifier(model):
        return PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=(1, 28, 28), nb_classes=10,
                                 optimizer=torch.optim.Adam(model.parameters(), lr=cfg.train.lr,
                                                            weight_decay=cfg.train.weight_decay))

    start = time.perf_counter()
    x, y = (t.numpy() for t in digits.tensors(art_order(cfg, target.splits.shadow_pool)))
    torch.manual_seed(cfg.seed)
    shadows = ShadowModels(classifier(build_model(cfg.train.arch, dropout=cfg.train.dropout)),
                           num_shadow_models=cfg.shadows, disjoint_datasets=True, random_state=cfg.seed)
    # ART shuffles `x`, cuts it into one chunk per shadow, trains on each chunk's first half with the
    # estimator's own fit loop and keeps the second half out.
    original_fit = PyTorchClassifier.fit

    def fit(self, x, y, **kwargs):
        return original_fit(self, x, y, batch_size=cfg.train.batch_size, nb_epochs=cfg.train.epochs)

    PyTorchClassifier.fit = fit
    try:
        (mx, my, mpred), (nx, ny, npred) = shadows.generate_shadow_dataset(x, np.eye(10)[y])
    finally:
        PyTorchClassifier.fit = original_fit
    ours = [digits.tensors(shadow_draw(cfg, target.splits.shadow_pool, k)[0])[0].numpy() for k in range(cfg.shadows)]
    same = all(np.array_equal(a, b[0]) for a, b in zip(ours, shadows.get_shadow_models_train_sets()))
    print(f"ART's shadow training sets are ours, record for record: {same}")
    attack = MembershipInferenceBlackBox(classifier(target.model), attack_model_type="nn")
    attack.fit(mx, my, nx, ny, mpred, npred)
    ex, ey = (t.numpy() for t in digits.tensors(eval_index))
    probability = attack.infer(ex, np.eye(10)[ey], probabilities=True)[:, -1]
    seconds = time.perf_counter() - start
    return evaluate(probability, probability, is_member, seed=cfg.seed)[0], seconds


def art_order(cfg, pool: np.ndarray) -> np.ndarray:
    """Our shadows' records, laid out so that ART's shuffle (default_rng(random_state).permutation, the
    first use of its generator) puts shadow k's members and then its non-members in ART's chunk k."""
    draws = [shadow_draw(cfg, pool, k) for k in range(cfg.shadows)]
    if any(len(validation) or len(inside) != len(outside) for inside, validation, outside in draws):
        raise SystemExit("the ART comparison needs shadows with as many non-members as members and no early stopping")
    ordered = np.concatenate([np.concatenate([inside, outside]) for inside, _, outside in draws])
    arranged = np.empty_like(ordered)
    arranged[np.random.default_rng(cfg.seed).permutation(len(ordered))] = ordered  # arranged[perm] == ordered
    return arranged


def our_pipeline(cfg, digits, target, eval_index, is_member, trainer):
    """`trainer`'s worker processes start on its first job: a new one's start-up counts here."""
    start = time.perf_counter()
    shadows = train_shadows(cfg, digits, target.splits, trainer=trainer)
    logits = predict_logits(target.model, digits.tensors(eval_index)[0])
    attack = make_attack("shadow").fit(shadows.data)
    labels = digits.labels[eval_index]
    statistic, probability = attack.statistic(logits, labels), attack.score(logits, labels)
    return evaluate(statistic, probability, is_member, seed=cfg.seed)[0], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="overfit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=available_cores(),
                        help="processes our shadows train in, one model each (default: one per core)")
    parser.add_argument("--rounds", type=int, default=2, help="times each pipeline runs, interleaved (default 2)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    from dataclasses import replace

    cfg = replace(preset(args.preset), seed=args.seed)
    digits = load_digits()
    target = train_target(cfg, digits)
    eval_index, is_member = target.eval_records()
    print(f"target: {args.preset}, {cfg.train_size} members, test accuracy {target.test_accuracy:.3f};"
          f" {cfg.shadows} shadows x {cfg.train.epochs} epochs; {is_member.sum()} + {(~is_member).sum()} records scored")
    data = {"dir": os.environ.get(DATA_DIR_ENV), "fingerprint": digits.fingerprint}
    trainer = ProcessPool(args.workers, data) if args.workers > 1 else InProcess()
    ours, started = our_pipeline(cfg, digits, target, eval_index, is_member, trainer)
    running, art_seconds = [], []
    for i in range(1, args.rounds + 1):
        again, seconds = our_pipeline(cfg, digits, target, eval_index, is_member, trainer)
        if again != ours:
            raise SystemExit("the same seeds gave other figures on running workers than on new ones")
        art, art_s = art_pipeline(cfg, digits, target, eval_index, is_member)
        running.append(seconds)
        art_seconds.append(art_s)
        print(f"round {i}: mia_core {seconds:.1f} s on running workers" + (f" ({started:.1f} s with its workers"
              " started)" if i == 1 else "") + f"; ART 1.20 {art_s:.1f} s")
    trainer.shutdown()
    for name, m in (("mia_core", ours), ("ART 1.20", art)):
        print(f"{name:9s} AUC {with_interval(m.auc, m.auc_ci)}   TPR@1%FPR "
              f"{with_interval(m.tpr_at_fpr['0.01'], m.tpr_at_fpr_ci['0.01'])}   accuracy {with_interval(m.accuracy, m.accuracy_ci)}")
    ratios = np.array(running) / np.array(art_seconds)
    print(f"seconds ratio mia_core / ART: running workers, median {np.median(ratios):.2f} (range {ratios.min():.2f}-"
          f"{ratios.max():.2f}); workers started for it {started / art_seconds[0]:.2f} (first round)")


if __name__ == "__main__":
    main()
