"""The model store: one folder per experiment, written atomically.

    <root>/<name>/meta.json         config, split seed, accuracies, metrics, package versions
    <root>/<name>/target.pt         the target's state_dict
    <root>/<name>/shadows.pt        every shadow's state_dict, keys prefixed "<k>."
    <root>/<name>/shadow_data.npz   the shadows' outputs the attack models are fitted on
    <root>/<name>/references.pt     reference models for LiRA / RMIA, keys prefixed "<k>." (optional)
    <root>/<name>/reference_data.npz  their pool, keep matrix, outputs and population (optional)
    <root>/<name>/members.npy       a model trained elsewhere: its training set as given (empty if unknown)

Weights load with `torch.load(..., weights_only=True)` and arrays with
`allow_pickle=False`: nothing here is ever unpickled. Attack models are not stored
as objects; they are refitted from `shadow_data.npz` (deterministic, well under a second).
A folder is written under a temporary name and renamed into place, so a reader never
sees half a model.

A store may sit over a read-only `shipped` store (the demo models in assets/models): its models are
listed and loaded like the others, and no save ever replaces one.
"""

import json
import os
import pickle
import platform
import re
import shutil
import struct
import tempfile
import time
import uuid
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import sklearn
import torch

from ..attacks import AttackData, ReferenceData
from ..config import ExperimentConfig, TrainConfig
from ..data import Digits, splits_around
from ..experiment.references import ReferenceSet
from ..experiment.run import ShadowRun, TargetRun, split_for
from ..models import build_model
from ..training import EpochStats
from ..training.split_ai import SplitAI

STORE_ENV = "MIA_STORE_DIR"
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "model_store"
SHIPPED_ROOT = Path(__file__).resolve().parents[2] / "assets" / "models"  # built by scripts/build_demo_models.py
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PRIVATE_MARK = "--by-"  # one session's model is stored as "<name>--by-<workspace>"; shared names never hold it
WORKSPACE_RE = re.compile(r"^[a-z0-9]{3,12}$")
FORMAT = 2  # 2: held-out non-members no longer match the member count, so splits differ from format 1


class StoreError(Exception):
    """A stored model is missing, corrupt, foreign, or does not fit the data in use."""


def default_store(*, shipped: bool = True) -> "ModelStore":
    """$MIA_STORE_DIR (else model_store/), over the shipped demo models when `shipped` (they are trained
    on the embedded digits: pass False for other data)."""
    return ModelStore(os.environ.get(STORE_ENV) or DEFAULT_ROOT, shipped=SHIPPED_ROOT if shipped else None)


def _versions() -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "scikit-learn": sklearn.__version__}


def _in_store(path: Path) -> str:
    """A stored file as messages name it: its model's folder and its own name, never where the store lies."""
    return f"{path.parent.name}/{path.name}"


def _load_weights(path: Path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise StoreError(f"{_in_store(path)}: file is missing") from None
    except (RuntimeError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, OSError,
            struct.error) as err:
        raise StoreError(f"{_in_store(path)}: not a valid weights file ({type(err).__name__}: {str(err)[:120]})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StoreError(f"{_in_store(path)}: not a valid weights file (expected a state_dict of tensors)")
    return state


def _empty_model(train: TrainConfig, state: dict) -> torch.nn.Module:
    """A model of the configured shape for `state` to fill (a Split-AI ensemble takes its member count from it)."""
    if not train.split_models:
        return build_model(train.arch, dropout=train.dropout)
    parts = [build_model(train.arch, dropout=train.dropout) for _ in range(train.split_models)]
    members = state["fingerprints"].shape[0] if "fingerprints" in state else 0
    return SplitAI(parts, held_out=train.split_held_out, members=members)


def _into_model(cfg: ExperimentConfig, state: dict, path: Path) -> torch.nn.Module:
    model = _empty_model(cfg.train, state)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as err:
        raise StoreError(f"{_in_store(path)}: weights do not fit a {cfg.train.arch} model ({str(err).splitlines()[0][:160]})") from None
    return model.eval()


def _stack_states(models: list[torch.nn.Module]) -> dict:
    return {f"{k}.{key}": v for k, m in enumerate(models) for key, v in m.state_dict().items()}


def _load_models(cfg: ExperimentConfig, path: Path, count: int) -> list[torch.nn.Module]:
    state = _load_weights(path)
    models = []
    for k in range(count):
        prefix = f"{k}."
        models.append(_into_model(cfg, {key[len(prefix):]: v for key, v in state.items() if key.startswith(prefix)}, path))
    return models


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ValueError(f"model name {name!r} must be 1-64 letters, digits, '.', '_' or '-', starting alphanumeric")
    return name


def check_workspace(text: str) -> str:
    """A workspace: the name under which one attendee's models are kept apart from everyone else's."""
    workspace = str(text).strip().lower()
    if not WORKSPACE_RE.match(workspace):
        raise ValueError(f"a workspace is 3-12 lower-case letters or digits, not {text!r}")
    return workspace


def private_name(name: str, workspace: str) -> str:
    """The stored name of `workspace`'s model `name`."""
    if PRIVATE_MARK in check_name(name):
        raise ValueError(f"model name {name!r} may not contain {PRIVATE_MARK!r}")
    return check_name(f"{name}{PRIVATE_MARK}{check_workspace(workspace)}")


def workspace_of(name: str) -> str | None:
    """The workspace a stored model belongs to, or None for a shared one."""
    return name.rsplit(PRIVATE_MARK, 1)[1] if PRIVATE_MARK in name else None


def _names_in(root: Path | None) -> set[str]:
    if root is None or not root.is_dir():
        return set()
    return {p.name for p in root.iterdir() if NAME_RE.match(p.name) and (p / "meta.json").is_file()}


class ModelStore:
    def __init__(self, root: str | os.PathLike, *, shipped: str | os.PathLike | None = None):
        self.root = Path(root)
        self.shipped = Path(shipped) if shipped is not None else None

    def view(self, workspace: str | None) -> "SessionStore":
        """The store as one session sees it (see `SessionStore`)."""
        return SessionStore(self, workspace)

    def stored(self, name: str) -> str:
        """The folder a listed name is kept in (a session's view maps its own names to theirs)."""
        return check_name(name)

    def path(self, name: str) -> Path:
        """The folder `name` is read from: the shipped one, if a shipped model has that name."""
        check_name(name)
        if self.is_shipped(name):
            return self.shipped / name
        return self.root / name

    def is_shipped(self, name: str) -> bool:
        check_name(name)
        return self.shipped is not None and (self.shipped / name / "meta.json").is_file()

    def exists(self, name: str) -> bool:
        return (self.path(name) / "meta.json").is_file()

    def names(self) -> list[str]:
        return sorted(_names_in(self.root) | _names_in(self.shipped))

    def check_writable(self, name: str, *, overwrite: bool = False, hint: str = "allow replacing it") -> None:
        """Fails, before any work, if saving `name` would be refused: a bad name, a shipped model, or
        a stored one that `overwrite` does not allow replacing (`hint`: how the user allows it)."""
        if self.is_shipped(name):
            raise ValueError(f"{name!r} is a shipped demo model, which is never replaced: choose another name")
        if self.exists(name) and not overwrite:
            raise ValueError(f"a model named {name!r} is already stored in the model store: choose another name, or "
                             f"{hint}")

    def save(self, name: str, target: TargetRun, shadows: ShadowRun | None = None, *, digits: Digits,
             metrics: dict | None = None, references: ReferenceSet | None = None, brought: dict | None = None) -> Path:
        """`brought`: about a model trained elsewhere (its file, its hash); its members, if known, are kept
        beside it, and its splits are cut around them when it is loaded."""
        if self.is_shipped(name):
            raise ValueError(f"{name!r} is a shipped demo model, which is never replaced: choose another name")
        final = self.root / check_name(name)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=self.root))
        meta = {
            "format": FORMAT, "name": name, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "config": target.config.to_dict(), "split_seed": target.config.seed,
            "data": {"source": digits.source, "size": len(digits)},
            "target": {"train_accuracy": target.train_accuracy, "test_accuracy": target.test_accuracy,
                       "seconds": target.seconds, "history": [asdict(h) for h in target.history]},
            "shadows": None if shadows is None else {"count": len(shadows.models), "train_size": shadows.train_size,
                                                     "seconds": shadows.seconds},
            "references": None if references is None else {"count": len(references.models),
                                                            "seconds": references.seconds},
            "metrics": metrics or {}, "versions": _versions(),
            "brought": None if brought is None else {**brought, "members": int(len(target.splits.members))},
        }
        try:
            torch.save(target.model.state_dict(), tmp / "target.pt")
            if brought is not None:
                np.save(tmp / "members.npy", target.splits.members)
            if shadows is not None:
                torch.save(_stack_states(shadows.models), tmp / "shadows.pt")
                answers = {} if shadows.data.label_answers is None else {"label_answers": shadows.data.label_answers}
                np.savez(tmp / "shadow_data.npz", logits=shadows.data.logits, labels=shadows.data.labels,
                         member=shadows.data.member, **answers)
            if references is not None:
                torch.save(_stack_states(references.models), tmp / "references.pt")
                d = references.data
                np.savez(tmp / "reference_data.npz", index=references.index, population_index=references.population_index,
                         logits=d.logits, labels=d.labels, keep=d.keep, population_logits=d.population_logits,
                         population_labels=d.population_labels, seconds=references.seconds)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
            if final.exists():  # swap: the old folder moves aside, the new one takes its name
                old = self.root / f".old-{name}-{uuid.uuid4().hex[:8]}"
                os.replace(final, old)
                os.replace(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final

    def meta(self, name: str) -> dict:
        path = self.path(name) / "meta.json"
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError:
            raise StoreError(f"no stored model named {name!r}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise StoreError(f"{_in_store(path)}: not valid JSON ({err})") from None
        if isinstance(meta, dict) and isinstance(meta.get("format"), int) and meta["format"] < FORMAT:
            raise StoreError(f"{name!r} was saved by an earlier version of this project (store format "
                             f"{meta['format']}, whose data splits differ): delete its folder, {name}, in the model "
                             "store and build it again")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or "config" not in meta:
            raise StoreError(f"{_in_store(path)}: not a model-store metadata file (format {FORMAT})")
        return meta

    def load(self, name: str, digits: Digits) -> tuple[TargetRun, ShadowRun | None]:
        """The stored target (and shadows, if saved) for use with `digits`, the data it was trained on."""
        meta = self.meta(name)
        folder = self.path(name)
        try:
            cfg = ExperimentConfig.from_dict(meta["config"])
        except (TypeError, ValueError) as err:
            raise StoreError(f"{name}/meta.json: invalid config ({err})") from None
        if meta["data"]["size"] != len(digits):
            raise StoreError(f"{name!r} was trained on {meta['data']['source']}, but the data in use is {digits.source}")
        t = meta["target"]
        splits = split_for(cfg, digits) if not meta.get("brought") else splits_around(
            self._members(folder), len(digits), non_member_size=cfg.non_members, test_size=cfg.test_size, seed=cfg.seed)
        target = TargetRun(cfg, splits, _into_model(cfg, _load_weights(folder / "target.pt"), folder / "target.pt"),
                           [EpochStats(**h) for h in t["history"]], t["train_accuracy"], t["test_accuracy"], t["seconds"],
                           weights=(meta.get("brought") or {}).get("file"))
        if meta["shadows"] is None:
            return target, None
        models = _load_models(cfg, folder / "shadows.pt", meta["shadows"]["count"])
        try:
            with np.load(folder / "shadow_data.npz", allow_pickle=False) as f:
                data = AttackData(f["logits"], f["labels"], f["member"].astype(bool),
                                  f["label_answers"] if "label_answers" in f.files else None)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise StoreError(f"{name}/shadow_data.npz: not a valid shadow-data file ({err})") from None
        return target, ShadowRun(models, data, meta["shadows"]["train_size"], meta["shadows"]["seconds"])

    @staticmethod
    def _members(folder: Path) -> np.ndarray:
        """A brought model's training set as it was given (empty when it was not)."""
        try:
            return np.load(folder / "members.npy", allow_pickle=False).astype(np.int64)
        except (OSError, ValueError, EOFError) as err:
            raise StoreError(f"{folder.name}/members.npy: not a valid members file ({err})") from None

    def load_references(self, name: str, digits: Digits) -> ReferenceSet | None:
        """The stored reference models (for LiRA and RMIA), or None if none were kept."""
        meta = self.meta(name)
        if not meta.get("references"):
            return None
        folder = self.path(name)
        cfg = ExperimentConfig.from_dict(meta["config"])
        models = _load_models(cfg, folder / "references.pt", meta["references"]["count"])
        try:
            with np.load(folder / "reference_data.npz", allow_pickle=False) as f:
                data = ReferenceData(f["logits"], f["labels"], f["keep"].astype(bool), f["population_logits"],
                                     f["population_labels"])
                return ReferenceSet(models, f["index"], f["population_index"], data, float(f["seconds"]))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise StoreError(f"{name}/reference_data.npz: not a valid reference-data file ({err})") from None


class SessionStore(ModelStore):
    """One session's view of a store: the shared models and its workspace's own, each under the name it chose.

    A workspace's model `name` is kept as "<name>--by-<workspace>", so two attendees who both train
    "overfit-seed0" never meet; no one else lists it. A name that a shared model has stays the shared
    model's, and a view may not write it unless it has no workspace (the presenter's, which publishes
    shared models). Jobs get the stored name (`stored`), so identical work on a shared model is still shared.
    """

    def __init__(self, base: ModelStore, workspace: str | None):
        super().__init__(base.root, shipped=base.shipped)
        self.workspace = None if workspace is None else check_workspace(workspace)

    def _kept(self, stored: str) -> bool:
        return (ModelStore.path(self, stored) / "meta.json").is_file()

    def stored(self, name: str) -> str:
        if workspace_of(check_name(name)) is not None:
            raise ValueError(f"model name {name!r} may not contain {PRIVATE_MARK!r}")
        if self.workspace is None or self._kept(name):
            return name
        return private_name(name, self.workspace)

    def path(self, name: str) -> Path:
        return ModelStore.path(self, self.stored(name))

    def names(self) -> list[str]:
        names = set()
        for stored in ModelStore.names(self):
            owner = workspace_of(stored)
            if owner is None:
                names.add(stored)
            elif owner == self.workspace:
                names.add(stored.rsplit(PRIVATE_MARK, 1)[0])
        return sorted(names)

    def check_writable(self, name: str, *, overwrite: bool = False, hint: str = "allow replacing it") -> None:
        stored = self.stored(name)
        if self.workspace is not None and workspace_of(stored) is None:
            raise ValueError(f"{name!r} is a shared model, which only the presenter replaces: choose another name")
        super().check_writable(name, overwrite=overwrite, hint=hint)
