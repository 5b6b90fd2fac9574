"""A seed gives the same figures whatever else runs: asking for LiRA and RMIA (and so for reference models) leaves
the target, the shadow models and every other attack's per-record figures exactly as they were."""

import numpy as np

from mia_core.config import ExperimentConfig, TrainConfig
from mia_core.experiment.run import run_experiment


def per_record(attacks: tuple[str, ...], digits) -> dict[str, np.ndarray]:
    cfg = ExperimentConfig(train_size=100, shadows=2, references=2, seed=3, attacks=attacks, non_members=300,
                           test_size=300, train=TrainConfig(epochs=3, batch_size=32, device="cpu"))
    result = run_experiment(cfg, digits)
    return {name: run.probability for name, run in result.attacks.items()}


def test_the_attack_list_does_not_change_the_shadow_and_loss_figures(digits):
    alone = per_record(("shadow", "loss"), digits)
    beside = per_record(("shadow", "loss", "lira_online", "rmia"), digits)
    for name in ("shadow", "loss"):
        np.testing.assert_array_equal(alone[name], beside[name])
