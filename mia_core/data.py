"""MNIST sources and the seeded, disjoint splits every experiment uses.

Two sources, one shape: `Digits` holds uint8 images [N, 28, 28] and labels [N].
- `load_embedded()`: 10,000 real MNIST digits shipped in `assets/` (works offline).
- `load_mnist(data_dir)`: the full 70,000 through `torchvision.datasets.MNIST`.
"""

import gzip
import hashlib
import os
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

EMBEDDED_PATH = Path(__file__).resolve().parent.parent / "assets" / "mnist_10k.npz"
DATA_DIR_ENV = "MIA_DATA_DIR"  # where full MNIST lives when --data-dir is not given
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


@dataclass(frozen=True)
class Digits:
    images: np.ndarray  # uint8 [N, 28, 28]
    labels: np.ndarray  # int64 [N]
    source: str  # human-readable provenance, shown in the app and the JSON

    def __post_init__(self):
        if self.images.ndim != 3 or self.images.shape[1:] != (28, 28):
            raise ValueError(f"images must be [N, 28, 28], got {list(self.images.shape)}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the images and labels: the data's identity in a job's key."""
        digest = hashlib.sha256(np.ascontiguousarray(self.images).tobytes())
        digest.update(np.ascontiguousarray(self.labels, dtype=np.int64).tobytes())
        return digest.hexdigest()[:32]

    def tensors(self, index: np.ndarray | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised float images [n, 1, 28, 28] and int64 labels [n] for `index`."""
        images = self.images if index is None else self.images[index]
        labels = self.labels if index is None else self.labels[index]
        return to_model_input(images), torch.as_tensor(labels, dtype=torch.long)


def to_model_input(images: np.ndarray) -> torch.Tensor:
    """uint8 [n, 28, 28] -> normalised float [n, 1, 28, 28], as the models were trained."""
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32).div(255.0)
    return x.sub(MNIST_MEAN).div(MNIST_STD).unsqueeze(1)


def load_embedded(path: Path = EMBEDDED_PATH) -> Digits:
    with np.load(path, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"].astype(np.int64)
    return Digits(images, labels, source=f"embedded MNIST subset ({len(labels):,} digits)")


def load_mnist(data_dir: str | os.PathLike, *, download: bool = False) -> Digits:
    """Full MNIST (train + test, 70,000 digits) from `data_dir` via torchvision.

    Reads the standard raw IDX files under `data_dir/MNIST/raw/`; with `download=True`
    torchvision fetches them first (needs the internet).
    """
    from torchvision.datasets import MNIST

    root = Path(data_dir)
    if not root.is_dir() and not download:
        raise FileNotFoundError(f"MNIST data directory {str(root)!r} does not exist")
    _gunzip_raw_files(root / "MNIST" / "raw")
    try:
        parts = [MNIST(str(root), train=train, download=download) for train in (True, False)]
    except RuntimeError as err:  # torchvision: "Dataset not found. You can use download=True ..."
        raise FileNotFoundError(f"no MNIST files under {str(root)!r} (expected MNIST/raw/*-idx*-ubyte): {err}") from err
    images = np.concatenate([p.data.numpy() for p in parts]).astype(np.uint8)
    labels = np.concatenate([p.targets.numpy() for p in parts]).astype(np.int64)
    return Digits(images, labels, source=f"full MNIST from {root} ({len(labels):,} digits)")


RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _gunzip_raw_files(raw: Path) -> None:
    """torchvision reads the raw IDX files unzipped; unzip any that are only there as .gz (as its download does)."""
    for name in RAW_FILES:
        packed, plain = raw / f"{name}.gz", raw / name
        if packed.is_file() and not plain.is_file():
            tmp = plain.with_suffix(".tmp")
            with gzip.open(packed, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, plain)


def load_digits(data_dir: str | os.PathLike | None = None) -> Digits:
    """Full MNIST from `data_dir` (or $MIA_DATA_DIR) when given, else the embedded subset."""
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    return load_mnist(data_dir) if data_dir else load_embedded()


@dataclass(frozen=True)
class Splits:
    """Disjoint index sets into one `Digits`, cut from a single seeded permutation."""

    members: np.ndarray  # the target's training set
    non_members: np.ndarray  # never trained on by the target; the held-out "out" half
    shadow_pool: np.ndarray  # the attacker's public data, disjoint from the target's
    test: np.ndarray  # for test accuracy and "unseen digit" demos
    validation: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # the defender's, for early stopping

    def role(self, index: int) -> str:
        """Which set one example belongs to, in words."""
        for name, part in (("member", self.members), ("non-member (held out)", self.non_members),
                           ("attacker's shadow pool", self.shadow_pool), ("test set", self.test),
                           ("validation set", self.validation)):
            if np.isin(index, part):
                return name
        raise IndexError(f"example {index} is in no split")

    def eval_members(self, size: int, *, seed: int) -> np.ndarray:
        """A seeded subset of members the same size as the non-member set, for balanced metrics."""
        rng = np.random.default_rng([seed, 1])
        return np.sort(rng.choice(self.members, size=size, replace=False))


def make_splits(n: int, *, train_size: int, non_member_size: int, test_size: int, seed: int,
                min_shadow_pool: int = 0, validation_size: int = 0) -> Splits:
    """Cut `n` examples into members, non-members, test set, validation set and shadow pool.

    Disjoint by construction: every set is a slice of the same permutation.
    """
    for name, value in (("train_size", train_size), ("non_member_size", non_member_size)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if test_size < 0:
        raise ValueError(f"test_size must be non-negative, got {test_size}")
    needed = train_size + non_member_size + test_size + validation_size + min_shadow_pool
    if needed > n:
        raise ValueError(
            f"train size {train_size} + {non_member_size} non-members + {test_size} test digits"
            + (f" + {validation_size} validation digits" if validation_size else "")
            + f" + {min_shadow_pool} for the attacker's shadow pool = {needed}, more than the {n:,} digits available")
    order = np.random.default_rng(seed).permutation(n)
    # The validation cut comes last but one, so splits without it are unchanged by its existence.
    cuts = np.cumsum([train_size, non_member_size, test_size, n - train_size - non_member_size - test_size
                      - validation_size])
    members, non_members, test, pool, validation = np.split(order, cuts)
    return Splits(np.sort(members), np.sort(non_members), np.sort(pool), np.sort(test), np.sort(validation))


def splits_around(members: np.ndarray, n: int, *, non_member_size: int, test_size: int, seed: int,
                  min_shadow_pool: int = 2) -> Splits:
    """Splits for a model trained elsewhere on `members` (its own training set, as indices): the other
    examples, in a seeded order, give the held-out non-members, the test set and the attacker's pool."""
    members = np.sort(np.asarray(members, dtype=np.int64))
    rest = np.setdiff1d(np.arange(n), members)
    needed = non_member_size + test_size + min_shadow_pool
    if needed > len(rest):
        raise ValueError(f"{len(members):,} members leave {len(rest):,} other digits, fewer than the "
                         f"{non_member_size} non-members + {test_size} test digits + {min_shadow_pool} for the "
                         f"attacker's pool = {needed} the evaluation needs")
    order = np.random.default_rng(seed).permutation(rest)
    non_members, test, pool = np.split(order, np.cumsum([non_member_size, test_size]))
    return Splits(members, np.sort(non_members), np.sort(pool), np.sort(test))
