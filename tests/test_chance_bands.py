"""The advantage's chance band: a coin flip's max(TPR - FPR) stays inside it about 95% of the time."""

import math

import numpy as np
import pytest

from mia_core.metrics import advantage_chance_band, batch_tpr_at_fpr, counted_advantage, roc, tpr_chance_band
from mia_core.present.tables import chance_lines


def null_advantages(members: int, non_members: int, runs: int, seed: int = 0) -> np.ndarray:
    """max(TPR - FPR) of `runs` coin-flip attacks: members and non-members score alike. Each attack's records in
    the order of its scores, counted (tests/test_metrics.py checks these counted forms against sklearn's ROC)."""
    rng = np.random.default_rng(seed)
    is_member = np.r_[np.ones(members, bool), np.zeros(non_members, bool)]
    ranked = is_member[np.argsort(rng.random((runs, members + non_members)), axis=-1)].astype(int)  # ascending
    return counted_advantage(ranked, 1 - ranked)


def test_the_counted_advantage_of_a_coin_flip_is_its_roc_curves():
    rng = np.random.default_rng(0)
    scores, is_member = rng.random(300), np.r_[np.ones(100, bool), np.zeros(200, bool)]
    ranked = is_member[np.argsort(scores)].astype(int)
    assert counted_advantage(ranked, 1 - ranked) == roc(scores, is_member).advantage


@pytest.mark.parametrize("members, non_members", [(200, 200), (100, 400)])
@pytest.mark.slow
def test_a_coin_flip_leaves_the_band_about_5_percent_of_the_time(members, non_members):
    _, high = advantage_chance_band(members, non_members)
    outside = (null_advantages(members, non_members, 2000) > high).mean()
    assert 0.03 <= outside <= 0.06  # a discrete statistic: at most 5%, and not far below


def test_the_band_is_close_to_the_asymptotic_formula():
    for members, non_members in [(1000, 1000), (3000, 1000), (200, 1000)]:
        formula = math.sqrt(-math.log(0.05) / 2) * math.sqrt((members + non_members) / (members * non_members))
        low, high = advantage_chance_band(members, non_members)
        assert low == 0.0
        assert high == pytest.approx(formula, rel=0.03)


def test_the_best_of_several_attacks_needs_a_wider_band():
    one = advantage_chance_band(300, 300)[1]
    five = advantage_chance_band(300, 300, attacks=5)[1]
    assert five > one
    best = null_advantages(300, 300, 600, seed=1).reshape(120, 5).max(axis=1)  # the best of 5 coin flips
    assert (best > one).mean() > 0.15  # against the one-attack band it looks like a leak far too often
    assert (best > five).mean() <= 0.06


def test_the_report_names_both_bands_and_says_what_is_corrected():
    result = {"chance_band": [0.47, 0.53], "advantage_chance_band": [0.0, 0.055],
              "advantage_chance_band_best_of_attacks": [0.0, 0.068], "attacks": {"loss": {}, "shadow": {}}}
    text = chance_lines(result, 1000, 1000)
    assert "up to 0.055" in text and "best of these 2 attacks, up to 0.068" in text
    assert "not corrected for the best of these 2" in text


def test_a_tpr_that_ties_cannot_resolve_is_null_with_the_reason_not_zero():
    """Label-only's statistic takes few values: here 55% of the non-members share the top one, so no threshold
    flags between 0% and 55% of them."""
    from mia_core.metrics import evaluate

    rng = np.random.default_rng(0)
    members = np.where(rng.random(1000) < 0.6, 1.0, rng.integers(0, 9, 1000) / 9)
    non_members = np.where(rng.random(1000) < 0.55, 1.0, rng.integers(0, 9, 1000) / 9)
    statistic = np.r_[members, non_members]
    is_member = np.r_[np.ones(1000, bool), np.zeros(1000, bool)]
    m, _ = evaluate(statistic, statistic, is_member, resamples=50)
    assert m.tpr_at_fpr["0.01"] is None and m.tpr_at_fpr_ci["0.01"] is None
    assert "tied scores" in m.tpr_at_fpr_note["0.01"] and "0.0%" in m.tpr_at_fpr_note["0.01"]
    untied, _ = evaluate(statistic + rng.random(2000) * 1e-6, statistic, is_member, resamples=50)
    assert untied.tpr_at_fpr["0.01"] is not None  # the same records without ties resolve it


def null_tprs(members: int, non_members: int, fpr: float, runs: int, seed: int = 0) -> np.ndarray:
    """The TPR at `fpr` of `runs` coin-flip attacks, counted as the metrics count it."""
    rng = np.random.default_rng(seed)
    return batch_tpr_at_fpr(rng.random((runs, members)), rng.random((runs, non_members)), fpr)


def test_a_coin_flip_finds_more_members_at_1_percent_fpr_than_the_band_about_5_percent_of_the_time():
    _, high = tpr_chance_band(100, 1000, 0.01)
    assert high == pytest.approx(0.03)  # 3 of 100 members above the non-members' top 1%
    tprs = null_tprs(100, 1000, 0.01, 20_000)
    assert 0.02 <= (tprs > high).mean() <= 0.05  # a discrete count: at most 5%, and not far below
    assert (tprs > high - 0.01).mean() > 0.05  # one member fewer would be too narrow a band


def test_the_tpr_band_widens_for_the_best_of_several_attacks_and_is_missing_where_unresolved():
    assert tpr_chance_band(100, 1000, 0.01, attacks=9)[1] > tpr_chance_band(100, 1000, 0.01)[1]
    assert tpr_chance_band(100, 500, 0.01) is None  # 500 non-members cannot resolve 1% FPR
    assert tpr_chance_band(100, 1000, 0.001) is None


def test_the_run_summary_names_the_tpr_band():
    result = {"chance_band": [0.44, 0.56], "attacks": {"loss": {}, "shadow": {}},
              "tpr_at_fpr_chance_band": {"0.01": [0.0, 0.03]},
              "tpr_at_fpr_chance_band_best_of_attacks": {"0.01": [0.0, 0.04]}}
    assert "TPRs at 1% FPR up to 0.030" in chance_lines(result, 100, 1000)
    assert "the best of these 2 attacks, up to 0.040" in chance_lines(result, 100, 1000)
