"""What a job can be. Each task takes its parameters (JSON-able: a configuration as a dict, the data's
directory and fingerprint, the model store's folders) and a ProgressFn, and returns a JSON-able dict.

Tasks run in a worker (or in this process, for the inline executor) through `execute`, which trains with
one torch thread wherever it runs: the same seed then gives the same numbers on any executor. A task that
trains several models hands them to its `trainer`: one after another where it runs, or side by side in
`model_workers` processes of their own.
"""

import json
import resource
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from ..progress import ProgressFn
from .files import FileProgress


@lru_cache(maxsize=2)
def _load(data_dir: str | None):
    from ..data import load_digits

    return load_digits(data_dir)


def digits_for(data: dict):
    """The digits a job names, checked against the fingerprint it was submitted with."""
    digits = _load(data["dir"])
    if digits.fingerprint != data["fingerprint"]:
        raise ValueError(f"the data at {data['dir'] or 'the embedded subset'} is not the data this job was "
                         f"submitted with ({digits.source})")
    return digits


def store_for(store: dict):
    from ..store import ModelStore

    return ModelStore(store["root"], shipped=store.get("shipped"))


def _config(params: dict):
    from ..config import ExperimentConfig

    return ExperimentConfig.from_dict(params["config"])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def brought_target(brought: dict, cfg, digits):
    """A model trained elsewhere, as the job was submitted: its file unchanged since, its members given."""
    import hashlib

    import numpy as np

    from ..pipeline import brought_target as target_of
    from ..weights import WeightsError, read_weights

    path = Path(brought["path"])
    if hashlib.sha256(path.read_bytes()).hexdigest() != brought["sha256"]:
        raise WeightsError(f"{path} changed since the job was submitted")
    return target_of(cfg, digits, read_weights(path, arch=cfg.train.arch), np.array(brought["members"]),
                     weights=str(path))


def experiment(params: dict, progress: ProgressFn, trainer) -> dict:
    """Train a target and its shadows (and references), attack it: the run's JSON and per-record scores.
    With params["save"], the models are kept in the store under that name. With params["brought"], the
    target is a model trained elsewhere, and only the attacker's models are trained."""
    from ..pipeline import run_experiment

    digits, cfg = digits_for(params["data"]), _config(params)
    target = brought_target(params["brought"], cfg, digits) if params.get("brought") else None
    result = run_experiment(cfg, digits, progress=progress, trainer=trainer, target=target)
    out = result.to_json()
    out["scores"] = result.record_scores()
    out["peak_rss_mb"] = peak_rss_mb()
    out["worker_peak_rss_mb"] = trainer.peak_rss_mb  # the largest worker its models trained in (0: here)
    if params.get("save"):
        store_for(params["store"]).save(params["save"], result.target, result.shadows, digits=digits,
                                        metrics=out["attacks"], references=result.references)
    return out


def train_target(params: dict, progress: ProgressFn, trainer) -> dict:
    """Train a target and keep it in the store under params["name"]."""
    from ..workflows import train_and_store

    store = store_for(params["store"])
    target = train_and_store(store, params["name"], _config(params), digits_for(params["data"]),
                             overwrite=params["overwrite"], progress=progress)
    return {"name": params["name"], "train_accuracy": target.train_accuracy, "test_accuracy": target.test_accuracy,
            "gap": target.gap, "seconds": target.seconds}


def attack_stored(params: dict, progress: ProgressFn, trainer) -> dict:
    """Attack a stored target (identified by name and its "created" stamp): the run's JSON and scores."""
    from ..workflows import attack_stored as attack

    result = attack(store_for(params["store"]), params["name"], digits_for(params["data"]),
                    shadows=params["shadows"], attacks=tuple(params["attacks"]), references=params["references"],
                    progress=progress, trainer=trainer)
    return {**result.to_json(), "scores": result.record_scores(), "gap": result.target.gap}


def demo_build(params: dict, progress: ProgressFn, trainer) -> dict:
    """Both demo targets with their shadows and references, into the store: each one's JSON."""
    from ..workflows import build_demo, demo_configs

    results = build_demo(store_for(params["store"]), digits_for(params["data"]), progress=progress,
                         configs=demo_configs(small=params["small"]), trainer=trainer)
    return {name: result.to_json() for name, result in results.items()}


def keep_brought(params: dict, progress: ProgressFn, trainer) -> dict:
    """A model trained elsewhere (its weights in params, base64), kept in the store with the attacker's models;
    every attack measured on it when its members are known."""
    import base64

    import numpy as np

    from ..weights import weights_from_bytes
    from ..workflows import keep_brought as keep

    digits, cfg = digits_for(params["data"]), _config(params)
    model = weights_from_bytes(base64.b64decode(params["weights"]), arch=cfg.train.arch, name=params["about"]["file"])
    members = None if params["members"] is None else np.array(params["members"], dtype=np.int64)
    return keep(store_for(params["store"]), params["name"], cfg, digits, model, members, about=params["about"],
                overwrite=params["overwrite"], progress=progress, trainer=trainer)


@lru_cache(maxsize=2)
def stored_attacker(attacker: str, data_dir: str | None):
    """A stored target's fitted attacks and reference models (`attacker`: its name, store and identity, as JSON),
    loaded once per worker: a room planting digits against the same demo target loads it once."""
    from ..planting import Attacker
    from ..workflows import load_with_attacks

    about = json.loads(attacker)
    stored = load_with_attacks(store_for(about["store"]), about["name"], _load(data_dir))
    return Attacker(stored.attacks, stored.references, f"the shadow and reference models stored with {about['name']!r}")


def plant(params: dict, progress: ProgressFn, trainer) -> dict:
    """A target trained with an attendee's planted drawings, and every attack's view of each drawing. With
    params["attacker"], the shadow and reference models of that stored target (of the same configuration)."""
    from ..planting import Drawings, plant_digits

    digits, cfg = digits_for(params["data"]), _config(params)
    attacker, start = None, time.perf_counter()
    if params.get("attacker"):  # its seconds: loading it, or nothing when this worker has it already
        attacker = replace(stored_attacker(json.dumps(params["attacker"], sort_keys=True), params["data"]["dir"]),
                           seconds=time.perf_counter() - start)
    return plant_digits(cfg, digits, Drawings.from_params(params["drawings"]), attacker=attacker, progress=progress,
                        trainer=trainer).to_json()


def audit(params: dict, progress: ProgressFn, trainer) -> dict:
    """Steinke et al.'s one-run epsilon audit of a configuration."""
    from ..audit import run_audit

    return run_audit(_config(params), digits_for(params["data"]), count=params["canaries"],
                     confidence=params["confidence"], white_box=params.get("white_box", False),
                     progress=progress).to_dict()


TASKS: dict[str, Callable[[dict, ProgressFn, object], dict]] = {
    "experiment": experiment, "train_target": train_target, "attack_stored": attack_stored,
    "demo_build": demo_build, "audit": audit, "plant": plant, "keep_brought": keep_brought,
}


def validate(task: str, params: dict) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {sorted(TASKS)}")
    if not isinstance(params, dict) or "data" not in params:
        raise ValueError(f"a {task} job's parameters must be a dict naming its data")


@contextmanager
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def execute(task: str, params: dict, progress_path: str, model_workers: int = 1) -> dict:
    """A job, as a worker runs it: progress into `progress_path`, one torch thread, its models trained here
    (`model_workers` 1) or in that many processes of their own."""
    from ..training.pool import InProcess, ProcessPool

    progress = FileProgress(Path(progress_path))
    trainer = ProcessPool(model_workers, params["data"]) if model_workers > 1 else InProcess()
    try:
        with one_thread():
            return TASKS[task](params, progress, trainer)
    finally:
        trainer.shutdown()
