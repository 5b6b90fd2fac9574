"""Weights in the safetensors format: this project's targets exported, and models trained elsewhere read
back and checked. A safetensors file is a JSON header and raw tensors: reading one runs no code, and
nothing here is ever unpickled.

    export_target(store, "demo-overfit", digits, Path("t.safetensors"))  # and t.members.csv beside it
    model = read_weights(Path("t.safetensors"), arch="lenet5")
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..models import ARCHITECTURES, build_model

MAX_MB = 20  # a LeNet-5 is 0.25 MB; anything far larger is not one of the supported architectures
PICKLE_OR_ZIP = (b"\x80", b"PK\x03\x04")  # a pickle; torch.save's zip archive (which holds a pickle)


class WeightsError(ValueError):
    """A weights file that cannot be read as one of the supported architectures: the message says why."""


def members_path(weights: Path) -> Path:
    """FILE.safetensors -> FILE.members.csv"""
    return Path(weights).with_suffix(".members.csv")


def export_target(store, name: str, digits, out: Path) -> tuple[Path, Path]:
    """A stored target's weights as safetensors (its architecture in the header's metadata), and its training
    set beside them, one dataset index per line."""
    from safetensors.torch import save_file

    target, _ = store.load(name, digits)
    if target.config.train.split_models:
        raise WeightsError(f"{name!r} is a Split-AI ensemble; only single {', '.join(sorted(ARCHITECTURES))} "
                           "models are exported")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in target.model.state_dict().items()}
    save_file(state, str(out), metadata={"arch": target.config.train.arch, "source": f"mia_core model {name}",
                                         "data": digits.source})
    members = members_path(out)
    members.write_text("".join(f"{i}\n" for i in target.splits.members))
    return out, members


def read_weights(path: Path, *, arch: str, max_mb: float = MAX_MB) -> nn.Module:
    """A model of `arch` holding the file's weights, in eval mode; a WeightsError saying what is wrong
    with any file that is not safetensors weights of exactly that architecture."""
    path = Path(path)
    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise WeightsError(f"{path}: cannot read it ({err.strerror})") from None
    if size > max_mb * 2**20:  # before reading it
        raise WeightsError(f"{path}: {size / 2**20:.1f} MB, more than the {max_mb} MB a supported model needs")
    return weights_from_bytes(path.read_bytes(), arch=arch, name=str(path), max_mb=max_mb)


def weights_from_bytes(data: bytes, *, arch: str, name: str = "the file", max_mb: float = MAX_MB) -> nn.Module:
    """`read_weights` for a file's contents (an upload): `name` says which file in the messages."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    if arch not in ARCHITECTURES:
        raise WeightsError(f"unknown architecture {arch!r}; choose one of {sorted(ARCHITECTURES)}")
    if len(data) > max_mb * 2**20:
        raise WeightsError(f"{name}: {len(data) / 2**20:.1f} MB, more than the {max_mb} MB a supported model needs")
    if data.startswith(PICKLE_OR_ZIP):
        raise WeightsError(f"{name}: a pickle or torch.save file, not safetensors. Nothing here is unpickled: "
                           "save the state_dict with safetensors.torch.save_file")
    try:
        state = load(data)
    except (SafetensorError, ValueError, OverflowError) as err:
        raise WeightsError(f"{name}: not a valid safetensors file, truncated or corrupt ({str(err)[:120]})") from None
    expected = {k: v.shape for k, v in build_model(arch).state_dict().items()}
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise WeightsError(f"{name}: not {arch} weights: " + "; ".join(
            part for part in (f"missing {', '.join(missing[:4])}" if missing else "",
                              f"unexpected {', '.join(extra[:4])}" if extra else "") if part))
    wrong = [f"{k} is {list(v.shape)}, {arch} has {list(expected[k])}" for k, v in state.items() if v.shape != expected[k]]
    if wrong:
        raise WeightsError(f"{name}: not {arch} weights: {'; '.join(wrong[:3])}")
    if any(not v.is_floating_point() or not torch.isfinite(v).all() for v in state.values()):
        raise WeightsError(f"{name}: every tensor must hold finite floating-point numbers")
    model = build_model(arch)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.eval()


def read_members(path: Path, *, size: int) -> np.ndarray:
    """A members file: one dataset index per line, each in [0, size), no repeats."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise WeightsError(f"{path}: cannot read it ({err})") from None
    return members_from_text(text, size=size, name=str(path))


def members_from_text(text: str, *, size: int, name: str = "the members file") -> np.ndarray:
    """`read_members` for a file's text (an upload)."""
    try:
        index = np.array([int(line.strip()) for line in text.splitlines() if line.strip()], dtype=np.int64)
    except ValueError as err:
        raise WeightsError(f"{name}: one dataset index per line, as integers ({err})") from None
    if len(index) == 0 or index.min() < 0 or index.max() >= size or len(np.unique(index)) != len(index):
        raise WeightsError(f"{name}: {len(index)} indices; they must be distinct and between 0 and {size - 1}")
    return index
