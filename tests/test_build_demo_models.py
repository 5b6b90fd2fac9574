"""scripts/build_demo_models.py: the same code builds the same shipped models."""

import numpy as np
import pytest
import torch

from scripts.build_demo_models import LIMIT_MB, build, size_mb


def contents(folder):
    """Every weight and array the build wrote, by file and key; not timings (nor the metadata: dates)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".pt":
            out |= {(path.relative_to(folder), k): v.numpy() for k, v in torch.load(path, weights_only=True).items()}
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                out |= {(path.relative_to(folder), k): f[k] for k in f.files if k != "seconds"}
    return out


@pytest.mark.slow
def test_the_build_is_deterministic(small_demo, tmp_path):
    """Twice, once one model after another (the small_demo fixture) and once in two worker processes: the same
    weights."""
    first, second = small_demo.results, build(tmp_path / "b", small=True, workers=2)
    a, b = contents(small_demo.folder), contents(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) > 20
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert {n: r.attacks["lira_online"].metrics.auc for n, r in first.items()} == \
           {n: r.attacks["lira_online"].metrics.auc for n, r in second.items()}
    for folder in (small_demo.folder, tmp_path / "b"):  # no half-built folder left beside either
        assert [p.name for p in folder.parent.iterdir()] == [folder.name]
    assert size_mb(small_demo.folder) < LIMIT_MB
