"""Our shadow-model attack against IBM ART's (`ShadowModels` + `MembershipInferenceBlackBox`),
on the very same target, data split, shadow count and epochs.

    pip install adversarial-robustness-toolbox==1.20.1
    python -m benchmarks.art_compare [--preset overfit] [--seed 0]

Prints both pipelines' seconds (shadow training + attack model + scoring), their ratio,
and each one's AUC and TPR at 1% FPR on the held-out target members and non-members.
"""

import argparse
import time

import numpy as np
import torch

from mia_core.attacks import make_attack
from mia_core.config import preset
from mia_core.data import load_digits
from mia_core.metrics import evaluate
from mia_core.models import build_model
from mia_core.pipeline import shadow_size, train_shadows, train_target
from mia_core.training import predict_logits


def art_pipeline(cfg, digits, target, eval_index, is_member):
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox, ShadowModels
    from art.estimators.classification import PyTorchClassifier

    def classifier(model):
        return PyTorchClassifier(model=model, loss=torch.nn.CrossEntropyLoss(), input_shape=(1, 28, 28), nb_classes=10,
                                 optimizer=torch.optim.Adam(model.parameters(), lr=cfg.train.lr,
                                                            weight_decay=cfg.train.weight_decay))

    start = time.perf_counter()
    size = shadow_size(cfg, target.splits)
    pool = np.random.default_rng([cfg.seed, 9]).choice(target.splits.shadow_pool, 2 * size, replace=False)
    x, y = (t.numpy() for t in digits.tensors(pool))
    torch.manual_seed(cfg.seed)
    shadows = ShadowModels(classifier(build_model(cfg.train.arch, dropout=cfg.train.dropout)),
                           num_shadow_models=cfg.shadows, random_state=cfg.seed)
    # ART trains each shadow on a random half of `x` via the estimator's own fit loop.
    original_fit = PyTorchClassifier.fit

    def fit(self, x, y, **kwargs):
        return original_fit(self, x, y, batch_size=cfg.train.batch_size, nb_epochs=cfg.train.epochs)

    PyTorchClassifier.fit = fit
    try:
        (mx, my, mpred), (nx, ny, npred) = shadows.generate_shadow_dataset(x, np.eye(10)[y])
    finally:
        PyTorchClassifier.fit = original_fit
    attack = MembershipInferenceBlackBox(classifier(target.model), attack_model_type="nn")
    attack.fit(mx, my, nx, ny, mpred, npred)
    ex, ey = (t.numpy() for t in digits.tensors(eval_index))
    scores = attack.infer(ex, np.eye(10)[ey], probabilities=True)[:, -1]
    seconds = time.perf_counter() - start
    return evaluate(scores, is_member)[0], seconds


def our_pipeline(cfg, digits, target, eval_index, is_member):
    start = time.perf_counter()
    shadows = train_shadows(cfg, digits, target.splits)
    logits = predict_logits(target.model, digits.tensors(eval_index)[0])
    scores = make_attack("shadow").fit(shadows.data).score(logits, digits.labels[eval_index])
    return evaluate(scores, is_member)[0], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="overfit")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from dataclasses import replace

    cfg = replace(preset(args.preset), seed=args.seed)
    digits = load_digits()
    target = train_target(cfg, digits)
    eval_index, is_member = target.eval_records()
    print(f"target: {args.preset}, {cfg.train_size} members, test accuracy {target.test_accuracy:.3f};"
          f" {cfg.shadows} shadows x {cfg.train.epochs} epochs; {is_member.sum()} + {(~is_member).sum()} records scored")
    results = {"mia_core": our_pipeline(cfg, digits, target, eval_index, is_member),
               "ART 1.20": art_pipeline(cfg, digits, target, eval_index, is_member)}
    for name, (m, seconds) in results.items():
        print(f"{name:9s} {seconds:7.1f} s   AUC {m.auc:.3f}   TPR@1%FPR {m.tpr_at_fpr['0.01']:.3f}   accuracy {m.accuracy:.3f}")
    print(f"seconds ratio mia_core / ART = {results['mia_core'][1] / results['ART 1.20'][1]:.2f}")


if __name__ == "__main__":
    main()
