"""Lower bounds on epsilon from one training run's guesses about its canaries.

m canaries each go into the run with probability 1/2. An auditor guesses "in" for some, "out" for others and
abstains on the rest; `guesses` is how many it made, `correct` how many were right. Two analyses turn those counts
into an epsilon that the run refutes at a chosen confidence:

- `epsilon_lower_bound`: Steinke, Nasr & Jagielski, "Privacy auditing with one (1) training run" (NeurIPS 2023,
  arXiv 2305.08846), Theorem 5.2: under (epsilon, delta)-DP,

      P[at least v of r guesses right] <= beta + alpha * 2 m delta,   beta = P[Binomial(r, q) >= v],
      q = e^eps / (1 + e^eps),   alpha = max over i = 1..v of (P[Binomial(r, q) >= v - i] - beta) / i.

- `epsilon_lower_bound_fdp`: Mahloujifar, Melis & Chaudhuri, "Auditing f-differential privacy in one run"
  (arXiv 2410.22235). Under f-DP, the chance of each count of correct guesses is bounded through f itself, by a
  recursion from the most correct guesses down (`_fdp_refutes`). f here is the trade-off curve of the Gaussian
  mechanism, mu-GDP; a refuted mu is reported as the epsilon a mu-GDP mechanism has at `delta` (`gdp_epsilon`). This
  is tighter than the (epsilon, delta) analysis, and refutes the Gaussian curve, the one DP-SGD's noise follows.

Either bound can never exceed its ceiling, the bound of every guess right (`epsilon_ceiling`): with few canaries or
guesses a perfect attack still proves little.
"""

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, log_ndtr, ndtr, ndtri
from scipy.stats import binom

EPSILON_CAP = 50.0  # above this every correct-guess count is explained anyway
MU_CAP = 30.0  # a mu-GDP curve this far out is indistinguishable from no privacy


def one_run_p_value(*, canaries: int, guesses: int, correct: int, epsilon: float, delta: float) -> float:
    """Steinke et al.'s bound on P[at least `correct` of `guesses` right] under (epsilon, delta)-DP."""
    q = expit(epsilon)
    beta = binom.sf(correct - 1, guesses, q)  # P[Binomial >= correct]
    if delta == 0 or correct == 0:
        return float(beta)
    i = np.arange(1, correct + 1)
    alpha = np.max((binom.sf(correct - i - 1, guesses, q) - beta) / i)
    return float(min(beta + alpha * 2 * canaries * delta, 1.0))


def epsilon_lower_bound(*, canaries: int, guesses: int, correct: int, delta: float,
                        confidence: float = 0.95) -> float:
    """The largest epsilon that `correct` right out of `guesses` refutes at `confidence` (0 if none): Steinke et al."""
    _check(canaries, guesses, correct, confidence)
    significance = 1 - confidence

    def refuted(epsilon: float) -> float:  # positive while the (epsilon, delta) claim is refuted
        return significance - one_run_p_value(canaries=canaries, guesses=guesses, correct=correct,
                                              epsilon=epsilon, delta=delta)

    if guesses == 0 or refuted(0.0) <= 0:
        return 0.0
    if refuted(EPSILON_CAP) > 0:
        return EPSILON_CAP
    return float(brentq(refuted, 0.0, EPSILON_CAP, xtol=1e-6))


def gdp_epsilon(mu: float, delta: float) -> float:
    """The epsilon of a mu-GDP mechanism at `delta` (Dong, Roth & Su 2019, Corollary 2.13):
    delta = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)."""
    if mu <= 0:
        return 0.0

    def excess(epsilon: float) -> float:
        return ndtr(-epsilon / mu + mu / 2) - math.exp(epsilon + log_ndtr(-epsilon / mu - mu / 2)) - delta

    if excess(0.0) <= 0:
        return 0.0
    high = 1.0
    while excess(high) > 0:
        high *= 2
    return float(brentq(excess, 0.0, high, xtol=1e-9))


def gdp_mu(epsilon: float, delta: float) -> float:
    """The mu whose mu-GDP curve has `epsilon` at `delta` (the inverse of `gdp_epsilon`)."""
    if epsilon <= 0:
        return 0.0
    return float(brentq(lambda mu: gdp_epsilon(mu, delta) - epsilon, 1e-9, MU_CAP * 4, xtol=1e-10))


def gaussian_tradeoff(alpha, mu: float):
    """The mu-GDP trade-off curve: the least type II error (1 - TPR) at type I error (FPR) alpha,
    Phi(Phi^-1(1 - alpha) - mu)."""
    return ndtr(ndtri(1 - np.asarray(alpha, float)) - mu)


def _fdp_refutes(mu: float, *, canaries: int, guesses: int, correct: int, significance: float) -> bool:
    """Whether `correct` of `guesses` right is less likely than `significance` under mu-GDP (Mahloujifar et al.).

    Scaled by 1/m, r is the mass of correct guesses and h of wrong ones that a run with this outcome at this
    significance must carry. Under f-DP, correct-guess mass r forces wrong-guess mass of at least
    Phi(Phi^-1(r) - mu) (the inverse of f's blow-up); going down from `correct` correct guesses, each step adds the
    wrong mass this forces, and the correct mass that comes with it in the ratio of the guesses' counts. If the
    masses outgrow the guesses' share (guesses / m), the outcome is refuted."""
    r = significance * correct / canaries
    h = significance * (guesses - correct) / canaries
    for i in range(correct - 1, -1, -1):
        forced = max(h, float(ndtr(ndtri(r) - mu)))
        if forced == h:  # nothing changes from here on
            break
        r = min(r + i / (guesses - i) * (forced - h), 1.0)
        h = forced
    return r + h > guesses / canaries


def mu_lower_bound(*, canaries: int, guesses: int, correct: int, confidence: float = 0.95) -> float:
    """The largest mu whose mu-GDP claim `correct` right out of `guesses` refutes at `confidence` (0 if none)."""
    _check(canaries, guesses, correct, confidence)
    significance = 1 - confidence

    def refuted(mu: float) -> bool:
        return _fdp_refutes(mu, canaries=canaries, guesses=guesses, correct=correct, significance=significance)

    if guesses == 0 or not refuted(0.0):
        return 0.0
    if refuted(MU_CAP):
        return MU_CAP
    low, high = 0.0, MU_CAP  # refuted at low, not at high: refuting is monotone in mu
    while high - low > 1e-6:
        mid = (low + high) / 2
        low, high = (mid, high) if refuted(mid) else (low, mid)
    return low


def epsilon_lower_bound_fdp(*, canaries: int, guesses: int, correct: int, delta: float,
                            confidence: float = 0.95) -> float:
    """The epsilon, at `delta`, of the largest mu-GDP curve the guesses refute at `confidence` (0 if none)."""
    return gdp_epsilon(mu_lower_bound(canaries=canaries, guesses=guesses, correct=correct, confidence=confidence),
                       delta)


def epsilon_ceiling(*, canaries: int, guesses: int, delta: float, confidence: float = 0.95) -> dict[str, float]:
    """The largest bound each analysis could prove with these canaries and this many guesses: every guess right."""
    given = dict(canaries=canaries, guesses=guesses, correct=guesses, delta=delta, confidence=confidence)
    return {"steinke": epsilon_lower_bound(**given), "fdp": epsilon_lower_bound_fdp(**given)}


def _check(canaries: int, guesses: int, correct: int, confidence: float) -> None:
    if not 0 <= correct <= guesses <= canaries:
        raise ValueError(f"need 0 <= correct <= guesses <= canaries, got {correct}, {guesses}, {canaries}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
