import numpy as np
import pytest
from scipy.special import comb, logit

from mia_core.audit.bounds import epsilon_lower_bound, one_run_p_value
from mia_core.audit.one_run import run_audit
from mia_core.config import ExperimentConfig, TrainConfig


def test_pure_dp_bound_is_the_binomial_tail_solved_by_hand():
    """All r guesses right under pure epsilon-DP: P = q^r with q = e^eps / (1 + e^eps), so at 95%
    confidence epsilon >= logit(0.05 ** (1 / r))."""
    for r in (10, 50, 100):
        assert epsilon_lower_bound(canaries=2 * r, guesses=r, correct=r, delta=0) == pytest.approx(
            logit(0.05 ** (1 / r)), abs=1e-5)
    assert epsilon_lower_bound(canaries=100, guesses=50, correct=25, delta=0) == 0  # a coin flip refutes nothing


def test_p_value_with_delta_against_the_papers_formula_written_out():
    """Steinke et al. 2023, Theorem 3: beta + alpha * 2 m delta, for r = 4 guesses, v = 3 right, m = 10."""
    m, r, v, eps, delta = 10, 4, 3, 1.0, 0.01
    q = np.exp(eps) / (1 + np.exp(eps))

    def tail(k):  # P[Binomial(r, q) >= k], summed term by term
        return sum(comb(r, j) * q ** j * (1 - q) ** (r - j) for j in range(max(k, 0), r + 1))

    beta = tail(v)
    alpha = max((tail(v - i) - beta) / i for i in range(1, v + 1))
    expected = beta + alpha * 2 * m * delta
    assert one_run_p_value(canaries=m, guesses=r, correct=v, epsilon=eps, delta=delta) == pytest.approx(expected)
    assert one_run_p_value(canaries=m, guesses=r, correct=v, epsilon=eps, delta=0) == pytest.approx(beta)


def test_delta_only_loosens_the_bound():
    tight = epsilon_lower_bound(canaries=1000, guesses=100, correct=95, delta=0)
    loose = epsilon_lower_bound(canaries=1000, guesses=100, correct=95, delta=1e-5)
    assert 0 < loose <= tight


@pytest.mark.slow
def test_an_audit_of_a_tiny_dp_run_never_exceeds_the_accountant(digits):
    cfg = ExperimentConfig(train_size=300, seed=0, train=TrainConfig(epochs=2, batch_size=64, dp_epsilon=1.0, device="cpu"))
    result = run_audit(cfg, digits, count=60)
    assert result.accountant_epsilon == pytest.approx(1.0, abs=0.1)
    assert result.epsilon_lower_bound <= result.accountant_epsilon


@pytest.mark.slow
def test_an_audit_of_a_memorising_model_refutes_epsilon_one(digits):
    cfg = ExperimentConfig(train_size=100, seed=0, train=TrainConfig(epochs=40, batch_size=32, device="cpu"))
    result = run_audit(cfg, digits, count=120)
    assert result.accountant_epsilon is None  # no DP, no promise
    assert result.epsilon_lower_bound > 1
    assert "no finite epsilon is promised" in result.summary()
    assert result.epsilon_lower_bound <= result.epsilon_ceiling
    assert result.epsilon_lower_bound_fdp <= result.epsilon_ceiling_fdp
    assert result.guesses_in > 0 and result.guesses_out > 0  # guesses both ways


def test_bad_audits_are_refused(digits):
    cfg = ExperimentConfig(train_size=100)
    with pytest.raises(ValueError, match="at least 10 canaries"):
        run_audit(cfg, digits, count=5)
    with pytest.raises(ValueError, match="only .* digits lie outside"):
        run_audit(cfg, digits, count=50_000)


def test_a_white_box_audit_of_a_tiny_dp_run_sees_dp_and_stays_below_the_accountant(digits):
    cfg = ExperimentConfig(train_size=300, seed=0, train=TrainConfig(epochs=3, batch_size=64, dp_epsilon=3.0,
                                                                     device="cpu"))
    result = run_audit(cfg, digits, count=1000, white_box=True)
    assert result.kind == "white-box" and result.canaries == 1000
    assert result.accountant_epsilon == pytest.approx(3.0, abs=0.1)
    assert 0 < result.epsilon_lower_bound <= result.accountant_epsilon
    assert 0 < result.epsilon_lower_bound_fdp <= result.accountant_epsilon
    assert result.guesses == result.guess_counts[0]  # one guess count, planned before training


def test_a_white_box_audit_needs_dp(digits):
    with pytest.raises(ValueError, match="trains without DP"):
        run_audit(ExperimentConfig(train_size=100), digits, count=1000, white_box=True)
