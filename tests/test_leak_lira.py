"""LiRA's spreads: the fixed one leaves out how far records lie from each other; each record gets its own once the
reference models are enough."""

import numpy as np

from mia_core.attacks import ReferenceData, make_attack
from mia_core.attacks.lira import PER_RECORD_FROM, pooled_spread
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


def test_online_lira_gives_each_record_its_own_spreads_once_the_references_are_enough():
    rng = np.random.default_rng(1)
    few, many = references(PER_RECORD_FROM - 1, rng), references(PER_RECORD_FROM, rng)
    assert make_attack("lira_online").fit(few).fixed_variance_
    assert not make_attack("lira_online").fit(many).fixed_variance_
    assert make_attack("lira_offline").fit(many).fixed_variance_  # offline keeps the fixed spread
