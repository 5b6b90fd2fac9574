import os

import numpy as np
import pytest

from mia_core.config import ExperimentConfig, TrainConfig
from mia_core.data import load_embedded


@pytest.fixture(scope="session", autouse=True)
def own_model_store(tmp_path_factory):
    """No test (nor a command it starts) reads or writes the repository's model_store/ or its kept results."""
    os.environ["MIA_STORE_DIR"] = str(tmp_path_factory.mktemp("model_store"))
    os.environ.pop("MIA_JOBS_DIR", None)


@pytest.fixture(scope="session")
def digits():
    return load_embedded()


@pytest.fixture(scope="session")
def tiny_overfit() -> ExperimentConfig:
    """Small and memorising: 100 members, 40 epochs, 2 shadows (a few seconds on 2 cores)."""
    return ExperimentConfig(train_size=100, shadows=2, seed=0, test_size=500,
                            attacks=("shadow", "loss", "confidence", "entropy", "modified_entropy", "seed_in_sample"),
                            train=TrainConfig(epochs=40, batch_size=32, device="cpu"))


@pytest.fixture(scope="session")
def tiny_overfit_run(tiny_overfit, digits):
    from mia_core.experiment.run import run_experiment

    return run_experiment(tiny_overfit, digits)


def synthetic_logits(n: int, *, member: bool, rng: np.random.Generator, classes: int = 10):
    """Logits whose true class is confident for members and weaker for non-members."""
    labels = rng.integers(0, classes, n)
    logits = rng.normal(0, 1, (n, classes))
    logits[np.arange(n), labels] += rng.normal(8 if member else 3, 1.5, n)
    return logits, labels
