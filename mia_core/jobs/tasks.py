"""What a job can be. Each task takes its parameters (JSON-able: a configuration as a dict, the data's
directory and fingerprint, the model store's folders) and a ProgressFn, and returns a JSON-able dict.

Tasks run in a worker (or in this process, for the inline executor) through `execute`, which trains with
one torch thread wherever it runs: the same seed then gives the same numbers on any executor. A task that
trains several models hands them to its `trainer`: one after another where it runs, or side by side in
`model_workers` processes of their own. Each task is a thin wrapper: the work itself is in `storage.targets`,
`experiment.run`, `workshop.planting` and `audit.one_run`.
"""

import base64
import hashlib
import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..audit.one_run import run_audit
from ..experiment.run import brought_target, run_experiment
from ..progress import ProgressFn
from ..storage.targets import attack_stored, build_demo, demo_configs, keep_brought, load_with_attacks, train_and_store
from ..storage.weights import WeightsError, read_weights, weights_from_bytes
from ..training.pool import InProcess
from ..workshop.planting import Attacker, Drawings, plant_digits
from .files import FileProgress
from .inputs import cached_digits, config_for, digits_for, store_for
from .model_pool import ProcessPool, peak_rss_mb


def brought_from_file(brought: dict, cfg, digits):
    """A model trained elsewhere, as the job was submitted: its file unchanged since, its members given."""
    path = Path(brought["path"])
    if hashlib.sha256(path.read_bytes()).hexdigest() != brought["sha256"]:
        raise WeightsError(f"{path} changed since the job was submitted")
    return brought_target(cfg, digits, read_weights(path, arch=cfg.train.arch), np.array(brought["members"]),
                          weights=str(path))


def experiment_job(params: dict, progress: ProgressFn, trainer) -> dict:
    """Train a target and its shadows (and references), attack it: the run's JSON and per-record scores.
    With params["save"], the models are kept in the store under that name. With params["brought"], the
    target is a model trained elsewhere, and only the attacker's models are trained."""
    digits, cfg = digits_for(params["data"]), config_for(params)
    target = brought_from_file(params["brought"], cfg, digits) if params.get("brought") else None
    result = run_experiment(cfg, digits, progress=progress, trainer=trainer, target=target)
    out = result.to_json()
    out["scores"] = result.record_scores()
    out["peak_rss_mb"] = peak_rss_mb()
    out["worker_peak_rss_mb"] = trainer.peak_rss_mb  # the largest worker its models trained in (0: here)
    if params.get("save"):
        store_for(params["store"]).save(params["save"], result.target, result.shadows, digits=digits,
                                        metrics=out["attacks"], references=result.references)
    return out


def train_target_job(params: dict, progress: ProgressFn, trainer) -> dict:
    """Train a target and keep it in the store under params["name"]."""
    store = store_for(params["store"])
    target = train_and_store(store, params["name"], config_for(params), digits_for(params["data"]),
                             overwrite=params["overwrite"], progress=progress)
    return {"name": params["name"], "train_accuracy": target.train_accuracy, "test_accuracy": target.test_accuracy,
            "gap": target.gap, "seconds": target.seconds}


def attack_stored_job(params: dict, progress: ProgressFn, trainer) -> dict:
    """Attack a stored target (identified by name and its "created" stamp): the run's JSON and scores."""
    result = attack_stored(store_for(params["store"]), params["name"], digits_for(params["data"]),
                           shadows=params["shadows"], attacks=tuple(params["attacks"]),
                           references=params["references"], progress=progress, trainer=trainer)
    return {**result.to_json(), "scores": result.record_scores(), "gap": result.target.gap}


def demo_build_job(params: dict, progress: ProgressFn, trainer) -> dict:
    """Both demo targets with their shadows and references, into the store: each one's JSON."""
    results = build_demo(store_for(params["store"]), digits_for(params["data"]), progress=progress,
                         configs=demo_configs(small=params["small"]), trainer=trainer)
    return {name: result.to_json() for name, result in results.items()}


def keep_brought_job(params: dict, progress: ProgressFn, trainer) -> dict:
    """A model trained elsewhere (its weights in params, base64), kept in the store with the attacker's models;
    every attack measured on it when its members are known."""
    digits, cfg = digits_for(params["data"]), config_for(params)
    model = weights_from_bytes(base64.b64decode(params["weights"]), arch=cfg.train.arch, name=params["about"]["file"])
    members = None if params["members"] is None else np.array(params["members"], dtype=np.int64)
    return keep_brought(store_for(params["store"]), params["name"], cfg, digits, model, members,
                        about=params["about"], overwrite=params["overwrite"], progress=progress, trainer=trainer)


@lru_cache(maxsize=2)
def stored_attacker(attacker: str, data_dir: str | None) -> Attacker:
    """A stored target's fitted attacks and reference models (`attacker`: its name, store and identity, as JSON),
    loaded once per worker: a room planting digits against the same demo target loads it once."""
    about = json.loads(attacker)
    stored = load_with_attacks(store_for(about["store"]), about["name"], cached_digits(data_dir))
    return Attacker(stored.attacks, stored.references, f"the shadow and reference models stored with {about['name']!r}")


def plant_job(params: dict, progress: ProgressFn, trainer) -> dict:
    """A target trained with an attendee's planted drawings, and every attack's view of each drawing. With
    params["attacker"], the shadow and reference models of that stored target (of the same configuration)."""
    digits, cfg = digits_for(params["data"]), config_for(params)
    attacker, start = None, time.perf_counter()
    if params.get("attacker"):  # its seconds: loading it, or nothing when this worker has it already
        attacker = replace(stored_attacker(json.dumps(params["attacker"], sort_keys=True), params["data"]["dir"]),
                           seconds=time.perf_counter() - start)
    return plant_digits(cfg, digits, Drawings.from_params(params["drawings"]), attacker=attacker, progress=progress,
                        trainer=trainer).to_json()


def audit_job(params: dict, progress: ProgressFn, trainer) -> dict:
    """Steinke et al.'s one-run epsilon audit of a configuration."""
    return run_audit(config_for(params), digits_for(params["data"]), count=params["canaries"],
                     confidence=params["confidence"], white_box=params.get("white_box", False),
                     progress=progress).to_dict()


TASKS: dict[str, Callable[[dict, ProgressFn, object], dict]] = {
    "experiment": experiment_job, "train_target": train_target_job, "attack_stored": attack_stored_job,
    "demo_build": demo_build_job, "audit": audit_job, "plant": plant_job, "keep_brought": keep_brought_job,
}


def validate(task: str, params: dict) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {sorted(TASKS)}")
    if not isinstance(params, dict) or "data" not in params:
        raise ValueError(f"a {task} job's parameters must be a dict naming its data")


@contextmanager
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def execute(task: str, params: dict, progress_path: str, model_workers: int = 1) -> dict:
    """A job, as a worker runs it: progress into `progress_path`, one torch thread, its models trained here
    (`model_workers` 1) or in that many processes of their own."""
    progress = FileProgress(Path(progress_path))
    trainer = ProcessPool(model_workers, params["data"]) if model_workers > 1 else InProcess()
    try:
        with one_thread():
            return TASKS[task](params, progress, trainer)
    finally:
        trainer.shutdown()
