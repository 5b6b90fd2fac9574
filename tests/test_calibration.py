import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mia_core.attacks.calibration import MIN_SLOPE, MonotoneCalibration


def draws(rng):
    """Statistics of every shape that broke a plain logistic calibration, with their membership."""
    member = np.r_[np.ones(200, bool), np.zeros(600, bool)]
    noise = rng.normal(size=800)
    yield "strong signal", noise + 2 * member, member
    yield "weak signal", noise + 0.2 * member, member
    yield "no signal", noise, member
    yield "anti-signal", noise - 0.5 * member, member  # must not be flipped into a positive one
    yield "tiny difference", 5 + 1e-4 * noise + 3e-4 * member, member  # sklearn's C=1e4 fit stopped at slope 0
    yield "near-constant", 1 + 1e-9 * noise, member
    yield "heavy tails", rng.standard_cauchy(800) + member, member
    yield "discrete", np.round(rng.random(800) + 0.1 * member, 2), member  # ties, as RMIA's fractions


@pytest.mark.parametrize("seed", range(25))
def test_calibrated_probability_ranks_records_exactly_as_the_statistic(seed):
    rng = np.random.default_rng(seed)
    for kind, statistic, member in draws(rng):
        fit_on, score = statistic[::2], statistic[1::2]  # fitted on one half, applied to the other
        calibration = MonotoneCalibration().fit(fit_on, member[::2])
        probability = calibration.probability(score)
        assert roc_auc_score(member[1::2], probability) == roc_auc_score(member[1::2], score), kind
        order = np.argsort(score, kind="stable")
        assert (np.diff(probability[order]) >= 0).all(), kind
        assert calibration.slope_ >= MIN_SLOPE, kind


def test_a_signal_free_fit_stays_near_even_odds_without_going_flat():
    rng = np.random.default_rng(0)
    statistic, member = rng.normal(size=2000), rng.random(2000) < 0.5
    probability = MonotoneCalibration().fit(statistic, member).probability(np.array([-1.0, 0.0, 1.0]))
    assert (np.diff(probability) > 0).all()
    assert np.abs(probability - 0.5).max() < 0.05


def test_calibration_is_at_a_fifty_percent_prior_whatever_the_class_counts():
    """Where the two classes' statistics cross, the probability is 0.5, even with 1 member in 5."""
    rng = np.random.default_rng(1)
    member = np.r_[np.ones(1000, bool), np.zeros(4000, bool)]
    statistic = rng.normal(np.where(member, 1.0, -1.0), 1.0)
    calibration = MonotoneCalibration().fit(statistic, member)
    assert calibration.threshold_ == pytest.approx(0.0, abs=0.1)
    assert calibration.probability(np.array([0.0]))[0] == pytest.approx(0.5, abs=0.03)


def test_calibration_refuses_one_class_and_nan():
    with pytest.raises(ValueError, match="both members and non-members"):
        MonotoneCalibration().fit(np.arange(4.0), np.ones(4, bool))
    with pytest.raises(ValueError, match="NaN"):
        MonotoneCalibration().fit(np.array([0.0, np.nan]), np.array([True, False]))
