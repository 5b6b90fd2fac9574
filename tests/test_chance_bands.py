"""The advantage's chance band: a coin flip's max(TPR - FPR) stays inside it about 95% of the time."""

import math

import numpy as np
import pytest

from mia_core.metrics import advantage_chance_band, roc
from mia_core.present.tables import chance_lines


def null_advantages(members: int, non_members: int, runs: int, seed: int = 0) -> np.ndarray:
    """max(TPR - FPR) of `runs` coin-flip attacks: members and non-members score alike."""
    rng = np.random.default_rng(seed)
    is_member = np.r_[np.ones(members, bool), np.zeros(non_members, bool)]
    return np.array([roc(rng.random(members + non_members), is_member).advantage for _ in range(runs)])


@pytest.mark.parametrize("members, non_members", [(200, 200), (100, 400)])
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
