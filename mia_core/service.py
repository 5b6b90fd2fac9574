"""The one door into mia_core for the app's pages and ui/ (and the command line's jobs): the data in use,
the stored models, queries, and the job runner that does every slow thing.

A `Service` is made once per server (or command) and shared by every session; it holds no session's
state. Reading a model, or querying one, happens here in the calling thread (milliseconds); training,
attacking, sweeping, reproducing, auditing and the demo build are jobs (`submit_*`), keyed by their
full configuration: identical requests share one job and one kept result.
"""

import base64
import copy
import hashlib
import os
from pathlib import Path

import numpy as np

from .attacks import ATTACKS, IN_SAMPLE_NOTE, LABELS, REALISTIC
from .attacks.base import VERDICT_FPR
from .audit.guesses import AuditResult
from .audit.one_run import canaries
from .config import ExperimentConfig, TrainConfig, preset
from .data import DATA_DIR_ENV, load_digits
from .drawing.preprocess import DotDrawing, EmptyDrawing, to_mnist
from .experiment.membership import VERDICT_PREFERENCE, MembershipReport, Tally, membership_report, query
from .experiment.reproduce import SEED_TABLES, csv_text, markdown, read_csv, reproduce_plan, reproduce_rows
from .experiment.run import check_feasible, split_for
from .experiment.sweep import DefenceRun, describe, is_undefended, read_sweep, sweep_plan
from .jobs import RAY_ADDRESS_ENV, Job, JobFailed, JobRunner, jobs_dir
from .jobs.executors import one_thread_each
from .metrics import chance_band
from .models import ARCHITECTURES
from .present import charts
from .present.attack_run import AttackRun
from .present.audit_chart import audit_trade_off_chart
from .present.html_report import build as build_report
from .present.tables import describe_plant, with_interval
from .progress import Progress, in_words
from .storage.store import StoreError, check_workspace, default_store
from .storage.summaries import BroughtTarget, DemoSummary, StoredTarget, TrainedTarget, history_of
from .storage.targets import DEMO, SHADOW_ATTACKS, LoadedTarget, brought_config, load_with_attacks
from .storage.weights import WeightsError, members_from_text, read_members, read_weights, weights_from_bytes
from .training import EpochStats
from .workshop.game import ROUND_SIZE, deal, playing_attack, score, verdicts
from .workshop.planting import MAX_DRAWINGS, Drawings, PlantOutcome, plant_config
from .workshop.room import Question, Room

__all__ = [  # what pages and ui/ use
    "ARCHITECTURES", "ATTACKS", "DEMO", "IN_SAMPLE_NOTE", "LABELS", "MAX_DRAWINGS", "REALISTIC", "SEED_TABLES",
    "SHADOW_ATTACKS", "VERDICT_FPR", "VERDICT_PREFERENCE",
    # typed results and configurations
    "AttackRun", "AuditResult", "BroughtTarget", "DefenceRun", "DemoSummary", "Drawings", "EpochStats",
    "ExperimentConfig", "LoadedTarget", "MembershipReport", "PlantOutcome", "Progress", "StoredTarget", "Tally",
    "TrainConfig", "TrainedTarget",
    # errors a page shows
    "DotDrawing", "EmptyDrawing", "Job", "JobFailed", "StoreError",
    "Service",
    # presentation and reading results
    "audit_trade_off_chart", "build_report", "chance_band", "charts", "csv_text", "describe", "describe_plant",
    "in_words", "is_undefended", "markdown", "membership_report", "preset", "query", "read_csv", "read_sweep",
    "reproduce_rows", "to_mnist", "with_interval",
    # the workshop room: the membership game and the room's shared state
    "ROUND_SIZE", "Question", "Room", "check_workspace", "deal", "playing_attack", "score",
    "verdicts"]
SAMPLE_DRAWINGS = Path(__file__).resolve().parent.parent / "assets" / "drawings" / "sample.npz"

EXECUTOR_ENV, WORKERS_ENV = "MIA_EXECUTOR", "MIA_WORKERS"  # the app server's runner settings


class Service:
    def __init__(self, *, data_dir: str | None = None, executor: str | None = None, workers: int | None = None,
                 address: str | None = None, model_workers: int = 1):
        # Queries run in the calling thread: a few hundred tiny operations per drawn digit (the target and each
        # reference model on one image). With a thread pool per core, every operation waits for all of its
        # threads, and while workers and browsers keep the cores busy one of them is often descheduled: seconds
        # per digit instead of milliseconds. One thread each, as in the workers.
        one_thread_each()
        self.data_dir = data_dir or os.environ.get(DATA_DIR_ENV) or None
        self.digits = load_digits(self.data_dir)
        # The shipped demo models were trained on the embedded digits: with other data they do not apply.
        self.store = default_store(shipped=self.data_dir is None)
        executor = executor or os.environ.get(EXECUTOR_ENV) or "local"
        workers = workers or (int(os.environ[WORKERS_ENV]) if os.environ.get(WORKERS_ENV) else None)
        self.runner = JobRunner(jobs_dir(self.store.root), executor=executor, workers=workers,
                                address=address or os.environ.get(RAY_ADDRESS_ENV), model_workers=model_workers)

    # --- what a job names: the data, and the store a job that keeps models writes to

    @property
    def _data_params(self) -> dict:
        return {"dir": self.data_dir, "fingerprint": self.digits.fingerprint}

    @property
    def _store_params(self) -> dict:
        return {"root": str(self.store.root), "shipped": str(self.store.shipped) if self.store.shipped else None}

    # --- jobs

    def submit_experiment(self, cfg: ExperimentConfig, *, save: str | None = None, overwrite: bool = False,
                          hint: str = "allow replacing it", brought: dict | None = None) -> Job:
        """Train, attack, measure. Kept under its key, unless it also saves the models under `save`. Anything
        the data cannot hold fails here, before the job is queued. `brought` (from `bring`): the target is a
        model trained elsewhere; `cfg` then says how the attacker trains shadow and reference models."""
        if brought:
            check_feasible(cfg, self.digits, members=np.array(brought["members"]))
            return self.runner.submit("experiment", {"config": cfg.to_dict(), "data": self._data_params,
                                                     "brought": brought})
        check_feasible(cfg, self.digits)
        if save:
            self.store.check_writable(save, overwrite=overwrite, hint=hint)
            return self.runner.submit("experiment", {"config": cfg.to_dict(), "data": self._data_params,
                                                     "save": self.store.stored(save),
                                                     "store": self._store_params}, cache=False)
        return self.runner.submit("experiment", {"config": cfg.to_dict(), "data": self._data_params})

    def bring(self, weights: str | os.PathLike, *, arch: str, members: str | os.PathLike) -> dict:
        """A model trained elsewhere, checked now (weights against `arch`, the members file against the data):
        what `submit_experiment(brought=...)` takes. The file's SHA-256 is part of the job's key."""
        read_weights(Path(weights), arch=arch)
        index = read_members(Path(members), size=len(self.digits))
        return {"path": str(Path(weights).resolve()), "sha256": hashlib.sha256(Path(weights).read_bytes()).hexdigest(),
                "members": index.tolist()}

    def submit_upload(self, name: str, weights: bytes, *, file: str, arch: str, members: bytes | None = None,
                      guess: str = "overfit", overwrite: bool = False, hint: str = "allow replacing it") -> Job:
        """Keep an uploaded model (safetensors `weights` of `arch`; `members`: a CSV of its training set's
        indices, or None for a black box) under `name`, with shadow and reference models trained like preset
        `guess`. Everything wrong with the name or the files fails here, before the job: nothing is stored."""
        self.store.check_writable(name, overwrite=overwrite, hint=hint)
        weights_from_bytes(weights, arch=arch, name=file)
        index = None
        if members is not None:
            try:
                text = members.decode("utf-8")
            except UnicodeDecodeError:
                raise WeightsError("the members file is not text: one dataset index per line") from None
            index = members_from_text(text, size=len(self.digits), name="the members file")
        cfg = brought_config(guess, arch=arch, members=None if index is None else len(index))
        check_feasible(cfg, self.digits, members=np.zeros(0, np.int64) if index is None else index)
        about = {"file": file, "sha256": hashlib.sha256(weights).hexdigest()}
        return self.runner.submit("keep_brought", {
            "name": self.store.stored(name), "weights": base64.b64encode(weights).decode(), "about": about,
            "config": cfg.to_dict(), "members": None if index is None else index.tolist(), "data": self._data_params,
            "store": self._store_params,
            "overwrite": overwrite}, cache=False)

    def submit_sweep(self, base: ExperimentConfig, grid: dict[str, list]) -> list[tuple[dict, ExperimentConfig, Job]]:
        return [(point, cfg, self.submit_experiment(cfg)) for point, cfg in sweep_plan(base, grid)]

    def submit_reproduction(self, *, epochs, seeds: int, settings=None) -> tuple[list, list[Job]]:
        plan = reproduce_plan(epochs=epochs, seeds=seeds, settings=settings)
        return plan, [self.submit_experiment(cfg) for *_, cfg in plan]

    def submit_training(self, name: str, cfg: ExperimentConfig, *, overwrite: bool = False,
                        hint: str = "allow replacing it") -> Job:
        """Train a target and keep it under `name`; a bad or taken name fails here, before any work."""
        self.store.check_writable(name, overwrite=overwrite, hint=hint)
        split_for(cfg, self.digits)
        return self.runner.submit("train_target", {"name": self.store.stored(name), "config": cfg.to_dict(),
                                                   "data": self._data_params,
                                                   "store": self._store_params, "overwrite": overwrite}, cache=False)

    def submit_attack(self, name: str, *, shadows: int, attacks: tuple[str, ...], references: int) -> Job:
        """Attack a stored target. Keyed by the stored model's identity, so a retrained target is attacked anew."""
        meta = self.store.meta(name)
        if meta.get("brought") and not meta["brought"]["members"]:
            raise ValueError(f"{name!r} was brought without its training set: query it on the Membership page; "
                             "measuring an attack needs to know which digits it trained on")
        identity = meta["created"] + f" {self.stamp(name)}"
        return self.runner.submit("attack_stored", {
            "name": self.store.stored(name), "model": identity, "shadows": shadows, "attacks": list(attacks), "references": references,
            "data": self._data_params, "store": self._store_params})

    def submit_demo_build(self, *, small: bool = False) -> Job:
        return self.runner.submit("demo_build", {"data": self._data_params, "store": self._store_params,
                                                 "small": small}, cache=False)

    def submit_plant(self, drawings: Drawings, *, seed: int | None = None) -> Job:
        """A target trained on the overfit demo's members plus the planted drawings, every drawing scored.
        Never kept: the drawings are the attendee's, and the result lives only with whoever waits on it.
        The attacker's models come from a stored target of the very same configuration when there is one
        (the shipped demo-overfit, for the default seed), else the job trains them."""
        cfg = plant_config(seed=seed)
        check_feasible(cfg, self.digits)
        params = {"config": cfg.to_dict(), "data": self._data_params, "drawings": drawings.to_params()}
        attacker = self.attacker_for(cfg)
        if attacker:
            params["attacker"] = {"name": self.store.stored(attacker), "store": self._store_params,
                                  "model": self.store.meta(attacker)["created"] + f" {self.stamp(attacker)}"}
        return self.runner.submit("plant", params, cache=False)

    def shipped_drawings(self) -> Drawings:
        """The shipped sample drawings: digits 0-9 planted, and 0-9 again by other hands kept out."""
        return Drawings.from_npz(SAMPLE_DRAWINGS)

    def attacker_for(self, cfg: ExperimentConfig) -> str | None:
        """A stored target (shipped first) trained, shadowed and referenced with exactly `cfg` on this data."""
        for name in sorted(self.store.names(), key=lambda n: not self.store.is_shipped(n)):
            try:
                meta = self.store.meta(name)
                same = ExperimentConfig.from_dict(meta["config"]) == cfg
            except (StoreError, TypeError, ValueError):
                continue
            if (same and meta["data"] == {"source": self.digits.source, "size": len(self.digits)}
                    and (meta["shadows"] or {}).get("count") == cfg.shadows
                    and (meta["references"] or {}).get("count") == cfg.references):
                return name
        return None

    def submit_audit(self, cfg: ExperimentConfig, *, count: int, confidence: float = 0.95,
                     white_box: bool = False) -> Job:
        """The one-run audit with `count` canaries: data canaries, or (`white_box`, DP-SGD only) gradient canaries."""
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        if white_box and not cfg.train.private:
            raise ValueError("a white-box audit inserts canaries into DP-SGD's noisy gradient sum; this configuration "
                             "trains without DP")
        if not white_box:
            canaries(self.digits, cfg, count)  # an impossible split, or too many canaries, fails before the job
        return self.runner.submit("audit", {"config": cfg.to_dict(), "data": self._data_params, "canaries": count,
                                            "confidence": confidence, **({"white_box": True} if white_box else {})})

    def data_in_words(self) -> str:
        """The data in use, for a page: its kind and size, never the folder it was read from."""
        return self.digits.source if self.data_dir is None else f"MNIST from $MIA_DATA_DIR ({len(self.digits):,} digits)"

    # --- one session's view

    def for_session(self, workspace: str | None) -> "Service":
        """This service as one session uses it: the same data and job runner, and the store as `workspace`
        sees it (its own models and the shared ones; None: shared only, as the presenter, who publishes)."""
        view = copy.copy(self)
        view.store = self.store.view(workspace)
        return view

    # --- stored models

    def stamp(self, name: str) -> str:
        """Changes whenever the stored model is rewritten."""
        return str((self.store.path(name) / "meta.json").stat().st_mtime_ns)

    def load(self, name: str) -> LoadedTarget:
        return load_with_attacks(self.store, name, self.digits)

    def attacked_targets(self) -> tuple[list[str], list[str]]:
        """Stored targets that have shadow models, and messages about entries that cannot be read."""
        ready, problems = [], []
        for name in self.store.names():
            try:
                if (self.store.meta(name)["shadows"] or {}).get("count"):
                    ready.append(name)
            except StoreError as err:
                problems.append(str(err))
        return ready, problems

    def stored_targets(self) -> tuple[list[StoredTarget], list[str]]:
        """Every stored target, and messages about entries that cannot be read."""
        targets, problems = [], []
        for name in self.store.names():
            try:
                targets.append(StoredTarget.from_meta(name, self.store.meta(name), shipped=self.store.is_shipped(name)))
            except StoreError as err:
                problems.append(str(err))
        return targets, problems

    def history(self, name: str) -> list[EpochStats]:
        """The stored target's training curve."""
        return history_of(self.store.meta(name))

    def demo_summary(self, name: str) -> DemoSummary:
        """A demo target's accuracies and shadow-attack AUC (with its interval), as stored."""
        return DemoSummary.from_meta(self.store.meta(name), shipped=self.store.is_shipped(name))

    def shutdown(self) -> None:
        self.runner.shutdown()

