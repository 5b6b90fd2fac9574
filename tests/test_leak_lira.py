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


def test_a_record_no_reference_model_trained_on_scores_higher_the_surer_the_target_is_of_it():
    rng = np.random.default_rng(2)
    labels, keep = np.zeros(300, int), balanced_keep(64, 300, per_model=30, seed=0)
    shift = rng.normal(3, 2, 300)  # how much training on a record raises the confidence differs from record to record
    logits = np.zeros((64, 300, 10))  # models that trained on a record agree closely about it; others do not
    logits[:, :, 0] = np.where(keep, 4 + shift + rng.normal(0, 0.3, keep.shape), 4 + rng.normal(0, 2, keep.shape))
    online = make_attack("lira_online").fit(ReferenceData(logits, labels, keep, logits[:, :50], labels[:50]))
    unseen = np.zeros((64, 3), bool)  # a drawn digit: no reference model trained on it
    target = np.zeros((3, 10))
    target[:, 0] = [4.0, 7.0, 10.0]  # the target ever surer of it
    statistic = online.raw(target, np.zeros(3, int), logits[:, :3], unseen, logits[0, :50], logits[:, :50],
                           labels[:50])
    assert statistic[0] < statistic[1] < statistic[2]
