import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from mia_core.config import ExperimentConfig, TrainConfig
from mia_core.data import load_embedded


# With `pytest -n 2 --dist loadfile` (pytest-xdist) each test file runs on one worker, and these tests and files
# run on one worker together: the tests that start Ray (one Ray instance at a time), the browser files (one served app,
# `app_url`, for all of them), and the AppTest files (the shipped demo models loaded once per process, see
# `new_app_server`) with the other file that uses the small demo build (`small_demo`), and the files that use
# `tiny_overfit_run`.
ONE_WORKER = {
    "tests/test_ray_cluster.py": "ray",
    "tests/test_jobs.py::test_the_same_seed_gives_the_same_numbers_on_every_executor": "ray",
    "tests/test_room_browser.py": "tests/test_browser.py",
    "tests/test_verdict_browser.py": "tests/test_browser.py",
    "tests/test_build_demo_models.py": "tests/test_app.py",
    "tests/test_verdict_app.py": "tests/test_app.py",
    "tests/test_room.py": "tests/test_app.py",
    "tests/test_links.py": "tests/test_app.py",
    **{f"tests/test_{name}.py": "tiny_overfit_run" for name in ("membership", "pipeline", "service", "store", "verdict",
                                                               "weights")},
}
# The units of work that take longest, handed out first in this order; the many short files then even out the
# workers' ends.
LONGEST_FIRST = ("tests/test_browser.py", "tiny_overfit_run", "tests/test_app.py", "ray", "tests/test_cli.py",
                 "tests/test_planting.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, with the files and tests in ONE_WORKER joined into one unit of work each, and the units in
    LONGEST_FIRST handed out first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Grouped(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return ONE_WORKER.get(nodeid, ONE_WORKER.get(file, file))

        def _assign_work_unit(self, node) -> None:
            for scope in reversed(LONGEST_FIRST):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return Grouped(config, log)


@pytest.fixture(scope="session", autouse=True)
def own_model_store(tmp_path_factory):
    """No test (nor a command it starts) reads or writes the repository's model_store/ or its kept results."""
    os.environ["MIA_STORE_DIR"] = str(tmp_path_factory.mktemp("model_store"))
    os.environ.pop("MIA_JOBS_DIR", None)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Each test process trains on one torch thread, as the job runner's workers do (two pytest-xdist workers
    then keep two cores busy without contending for them). Worker processes a test starts set their own."""
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """One `streamlit run app.py` on a fresh store with the shipped demo, shared by the browser tests (of each
    pytest-xdist worker) that need no fresh server of their own."""
    from test_browser import app_server

    with app_server({"MIA_STORE_DIR": str(tmp_path_factory.mktemp("served_store"))}) as url:
        yield url


def new_app_server() -> None:
    """What a fresh `streamlit run` starts with, for the AppTests that follow: a new service (it reads $MIA_STORE_DIR
    and $MIA_EXECUTOR) and an empty room. Loaded models stay cached as a server keeps them, keyed by the stored
    model's stamp: the shipped demo's attackers (seconds to load) are loaded once per process.
    `st.cache_resource.clear()` drops those too, for a test about loading itself."""
    from ui.room import room
    from ui.state import server

    server.clear()
    room.clear()


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A new server on the shipped demo models, with a store of its own (empty: nothing trained yet), running jobs in
    its own process."""
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("MIA_EXECUTOR", "inline")
    new_app_server()
    yield tmp_path / "store"
    new_app_server()


@dataclass(frozen=True)
class SmallDemo:
    folder: Path  # the model store it was built into
    results: dict  # each demo target's run


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> SmallDemo:
    """The demo's small build (`scripts/build_demo_models.py --small`), one model after another in this process;
    tests that spoil or compare it use copies."""
    from scripts.build_demo_models import build

    folder = tmp_path_factory.mktemp("small_demo") / "store"
    return SmallDemo(folder, build(folder, small=True))


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
