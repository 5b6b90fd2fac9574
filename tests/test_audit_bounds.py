"""The two one-run bounds (Steinke et al. 2023; Mahloujifar et al. 2024), their ceilings, and their validity on a
mechanism whose epsilon is known."""

import math

import numpy as np
import pytest
from scipy.special import logit, ndtr, ndtri
from scipy.stats import binom

from mia_core.audit.bounds import (_fdp_refutes, epsilon_ceiling, epsilon_lower_bound, epsilon_lower_bound_fdp,
                                   gdp_epsilon, gdp_mu, mu_lower_bound)
from mia_core.present.audit_chart import audit_trade_off_chart
from mia_core.audit.guesses import AuditResult, correct_guesses, judge


def test_gdp_epsilon_is_the_papers_formula_and_gdp_mu_its_inverse():
    """Dong, Roth & Su: delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)."""
    for mu in (0.3, 1.0, 2.5):
        eps = gdp_epsilon(mu, 1e-5)
        assert ndtr(-eps / mu + mu / 2) - math.exp(eps) * ndtr(-eps / mu - mu / 2) == pytest.approx(1e-5, rel=1e-4)
        assert gdp_mu(eps, 1e-5) == pytest.approx(mu, rel=1e-6)
    assert gdp_epsilon(1.0, 1e-5) == pytest.approx(4.4, abs=0.1)  # a classic reference point
    assert gdp_epsilon(0.0, 1e-5) == 0.0


def test_the_fdp_recursion_written_out_for_three_guesses():
    """m = 3 canaries, 3 guesses, all right. Scaled masses r (right) and h (wrong) start at significance a and 0;
    from i = 2 down to 0, h grows to the wrong mass that r forces under mu-GDP, Phi(Phi^-1(r) - mu), and r by
    i / (3 - i) times that growth; mu-GDP is refuted if r + h ends above the guesses' share, 3 / 3."""
    def by_hand(mu, a):
        r, h = a, 0.0
        g = ndtr(ndtri(r) - mu)
        r, h = r + 2 / 1 * (g - h), g
        g = max(h, ndtr(ndtri(r) - mu))
        r, h = r + 1 / 2 * (g - h), g
        h = max(h, ndtr(ndtri(r) - mu))
        return r + h > 1

    seen = set()
    for a in (0.05, 0.2, 0.3):
        for mu in (0.1, 0.5, 1.0, 2.0):
            refuted = _fdp_refutes(mu, canaries=3, guesses=3, correct=3, significance=a)
            assert refuted == by_hand(mu, a)
            seen.add(refuted)
    assert seen == {True, False}  # 3 right of 3 (1/8 by chance) refutes a near-private curve at 20%, not at 5%
    assert mu_lower_bound(canaries=3, guesses=3, correct=3) == 0.0


def test_at_mu_zero_the_fdp_analysis_is_the_exact_binomial_test():
    """mu = 0 is perfect privacy: each guess is a coin flip, so a sound analysis refutes it only where
    P[Binomial(r, 1/2) >= correct] < 0.05, and a tight one almost everywhere it is."""
    agree = total = 0
    for r in range(2, 101, 7):
        for c in range(r + 1):
            refuted = _fdp_refutes(0.0, canaries=100, guesses=r, correct=c, significance=0.05)
            binomial = binom.sf(c - 1, r, 0.5) < 0.05
            assert not refuted or binomial  # never refutes what the exact test keeps
            agree += refuted == binomial
            total += 1
    assert agree / total > 0.97


def test_pure_dp_steinke_bound_solved_by_hand():
    for r in (10, 50):
        assert epsilon_lower_bound(canaries=4 * r, guesses=r, correct=r, delta=0) == pytest.approx(
            logit(0.05 ** (1 / r)), abs=1e-5)


def test_reference_figures_from_the_papers_analyses():
    """1,000 canaries, 100 guesses, 80 right, delta 1e-5, 95%: the figures both analyses give (computed by hand
    from the formulas above; the f-DP one refutes a curve about 1.4x further out, as the papers report)."""
    steinke = epsilon_lower_bound(canaries=1000, guesses=100, correct=80, delta=1e-5)
    fdp = epsilon_lower_bound_fdp(canaries=1000, guesses=100, correct=80, delta=1e-5)
    assert steinke == pytest.approx(0.955, abs=0.005)
    assert fdp == pytest.approx(1.402, abs=0.005)
    assert 1.2 < fdp / steinke < 1.8


def test_the_ceiling_is_every_guess_right_and_no_bound_passes_it():
    ceiling = epsilon_ceiling(canaries=200, guesses=100, delta=1e-5)
    assert ceiling["steinke"] == epsilon_lower_bound(canaries=200, guesses=100, correct=100, delta=1e-5)
    # 100 guesses prove at most what 100 right of 100 do under pure DP, logit(0.05 ** (1 / 100)) = 3.49,
    # however leaky the model
    assert 3.0 < ceiling["steinke"] <= logit(0.05 ** (1 / 100)) + 1e-6
    for c in range(0, 101, 10):
        assert epsilon_lower_bound(canaries=200, guesses=100, correct=c, delta=1e-5) <= ceiling["steinke"]
        assert epsilon_lower_bound_fdp(canaries=200, guesses=100, correct=c, delta=1e-5) <= ceiling["fdp"] + 1e-9


def test_guesses_both_ways_with_abstention():
    scores = np.array([9, 8, 7, 5, 4, 3, 2, 1.0])
    inserted = np.array([1, 1, 0, 1, 0, 0, 1, 0], bool)
    assert correct_guesses(scores, inserted, 4) == (2, 2, 3)  # in: 9, 8 (both right); out: 2 (wrong), 1 (right)
    assert correct_guesses(scores, inserted, 8) == (4, 4, 6)


def gaussian_audits(mu: float, canaries: int, guesses: int, runs: int, seed: int = 0) -> np.ndarray:
    """Both bounds from `runs` one-run audits of an idealised mu-GDP mechanism: scores N(mu, 1) in, N(0, 1) out."""
    rng = np.random.default_rng(seed)
    bounds = []
    for _ in range(runs):
        inserted = rng.random(canaries) < 0.5
        j = judge(rng.normal(mu * inserted, 1.0), inserted, (guesses,), delta=1e-5, confidence=0.95,
                  accountant_epsilon=gdp_epsilon(mu, 1e-5))
        bounds.append((j["epsilon_lower_bound"], j["epsilon_lower_bound_fdp"]))
    return np.array(bounds)


def test_on_a_mechanism_of_known_epsilon_neither_bound_exceeds_it_more_than_5_percent_of_the_time():
    mu = 2.0
    truth = gdp_epsilon(mu, 1e-5)
    bounds = gaussian_audits(mu, canaries=2000, guesses=200, runs=100)
    assert (bounds > truth).mean(axis=0).max() <= 0.05
    assert bounds[:, 1].mean() > 0.5 * truth  # a regime where the bound comes near the truth, so it could fail
    assert bounds[:, 1].mean() > bounds[:, 0].mean()  # the f-DP analysis is the tighter


def test_the_audit_sentences_and_chart():
    j = judge(np.r_[np.arange(50.0), np.arange(50.0) + 30], np.r_[np.zeros(50, bool), np.ones(50, bool)], (20, 40),
              delta=1e-5, confidence=0.95, accountant_epsilon=None)
    result = AuditResult(kind="black-box", **j, signal="test", train_accuracy=1.0, test_accuracy=0.9, seconds=1.0)
    text = result.summary()
    ceiling = max(j["epsilon_ceiling"], j["epsilon_ceiling_fdp"])
    assert "no finite epsilon is promised" in text and f"ceiling {ceiling:.2f}" in text
    assert AuditResult.from_dict(result.to_dict()) == result
    dp = AuditResult(**{**result.to_dict(), "guess_counts": (20, 40), "accountant_epsilon": 3.0,
                        "accountant_mu": gdp_mu(3.0, 1e-5)})
    assert "upper bound, if the implementation matches its analysis" in dp.summary()
    fig = audit_trade_off_chart(dp.to_dict())
    assert any("accountant" in (trace.name or "") for trace in fig.data)
