import gzip
import struct

import numpy as np
import pytest

from mia_core.data import Digits, load_digits, load_embedded, load_mnist, make_splits


def test_embedded_subset_is_the_first_10k_mnist_training_digits():
    d = load_embedded()
    assert d.images.shape == (10_000, 28, 28) and d.images.dtype == np.uint8
    assert np.bincount(d.labels).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    assert "embedded" in d.source


def test_splits_are_disjoint_and_cover_everything():
    s = make_splits(10_000, train_size=300, non_member_size=200, test_size=1000, seed=3)
    parts = [s.members, s.non_members, s.shadow_pool, s.test]
    assert [len(p) for p in parts] == [300, 200, 8500, 1000]
    joined = np.concatenate(parts)
    assert len(np.unique(joined)) == 10_000  # no index in two sets, none left out


def test_splits_are_seeded():
    a = make_splits(1000, train_size=100, non_member_size=100, test_size=100, seed=1)
    b = make_splits(1000, train_size=100, non_member_size=100, test_size=100, seed=1)
    c = make_splits(1000, train_size=100, non_member_size=100, test_size=100, seed=2)
    assert np.array_equal(a.members, b.members) and np.array_equal(a.shadow_pool, b.shadow_pool)
    assert not np.array_equal(a.members, c.members)


def test_eval_members_are_members():
    s = make_splits(1000, train_size=300, non_member_size=100, test_size=100, seed=0)
    ev = s.eval_members(100, seed=0)
    assert len(ev) == 100 and np.isin(ev, s.members).all()


def test_impossible_split_says_why():
    with pytest.raises(ValueError, match="more than the 1,000 digits available"):
        make_splits(1000, train_size=900, non_member_size=200, test_size=100, seed=0)
    with pytest.raises(ValueError, match="train_size must be at least 1"):
        make_splits(1000, train_size=0, non_member_size=10, test_size=10, seed=0)


def _write_idx(path, array: np.ndarray):
    """IDX: zero, zero, type 0x08 (uint8), number of dims, big-endian sizes, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_full_mnist_path_reads_idx_files_through_torchvision(tmp_path, monkeypatch, suffix):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    train_x, test_x = rng.integers(0, 256, (6, 28, 28)), rng.integers(0, 256, (4, 28, 28))
    train_y, test_y = np.arange(6) % 10, np.arange(4) + 5
    _write_idx(raw / f"train-images-idx3-ubyte{suffix}", train_x)
    _write_idx(raw / f"train-labels-idx1-ubyte{suffix}", train_y)
    _write_idx(raw / f"t10k-images-idx3-ubyte{suffix}", test_x)
    _write_idx(raw / f"t10k-labels-idx1-ubyte{suffix}", test_y)
    d = load_mnist(tmp_path)
    assert len(d) == 10
    assert np.array_equal(d.images, np.concatenate([train_x, test_x]).astype(np.uint8))
    assert d.labels.tolist() == train_y.tolist() + test_y.tolist()
    monkeypatch.setenv("MIA_DATA_DIR", str(tmp_path))
    assert len(load_digits()) == 10  # the environment variable selects full MNIST


def test_missing_or_empty_data_dir_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no MNIST files"):
        load_mnist(tmp_path)


def test_digits_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\[N, 28, 28\]"):
        Digits(np.zeros((3, 8, 8), np.uint8), np.zeros(3, np.int64), "x")
