"""LiRA's spreads: the fixed one (the default) leaves out how far records lie from each other; without it, a record
gets its own spread on a side that holds enough values."""

import numpy as np

from mia_core.attacks import ReferenceData, make_attack
from mia_core.attacks.lira import OWN_SPREAD_FROM, LiRA, pooled_spread
from mia_core.training.many import balanced_keep


def test_the_fixed_spread_is_the_spread_within_records_not_between_them():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 10, 500)  # records far apart from each other
    values = centres + rng.normal(0, 1.5, (40, 500))  # each record's values spread by 1.5
    mask = rng.random((40, 500)) < 0.5
    assert abs(pooled_spread(values, mask) - 1.5) < 0.05
    assert np.std(values[mask]) > 9  # the spread of all values together is the records' own


def references(n_models: int, rng) -> ReferenceData:
    labels = rng.integers(0, 10, 300)
    keep = balanced_keep(n_models, 300, seed=0)
    logits = rng.normal(0, 1, (n_models, 300, 10))
    logits[:, np.arange(300), labels] += 4 + 3 * keep
    return ReferenceData(logits, labels, keep, logits[:, :50], labels[:50])


def test_a_record_gets_its_own_spread_only_on_a_side_with_enough_values():
    rng = np.random.default_rng(1)
    keep = balanced_keep(64, 300, per_model=30, seed=0)  # each record in about 6 models, out of about 58
    values = rng.normal(0, 1, (64, 300)) * rng.uniform(0.5, 3, 300)  # records with spreads of their own
    assert (keep.sum(axis=0) < OWN_SPREAD_FROM).all() and ((~keep).sum(axis=0) >= OWN_SPREAD_FROM).all()
    own = LiRA(fixed_variance=False).fit(references(64, rng))
    assert np.all(own._spread(values, keep, 1.0) == 1.0)  # "in": too few values, the pooled spread
    assert np.corrcoef(own._spread(values, ~keep, 1.0), values.std(axis=0))[0, 1] > 0.95  # "out": each record's own
    for name in ("lira_online", "lira_offline"):  # by default, the pooled spread on both sides
        assert np.all(make_attack(name).fit(references(64, rng))._spread(values, ~keep, 1.0) == 1.0)
