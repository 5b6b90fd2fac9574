"""From canary scores to an audit's result: guesses both ways, both bounds on them, and their ceilings.

An auditor ranks the canaries by score, guesses "in" for the highest, "out" for the lowest, as many each way, and
abstains on the rest. Which guess counts it tries is fixed before it sees a score; with several, each is tested at
1 - (1 - confidence) / k (Bonferroni), which makes taking the best of them valid for both bounds at once.
"""

from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.metrics import roc_curve

from .bounds import epsilon_ceiling, epsilon_lower_bound, gdp_epsilon, gdp_mu, mu_lower_bound

# What the accountant's epsilon is, wherever it is shown.
ACCOUNTANT_NOTE = "an upper bound, if the implementation matches its analysis"

CURVE_POINTS = 200  # points of the canaries' trade-off curve kept in the result


def correct_guesses(scores: np.ndarray, inserted: np.ndarray, guesses: int) -> tuple[int, int, int]:
    """`guesses` guesses: "in" for the guesses // 2 highest scores, "out" for the rest from the lowest.
    Returns (guessed in, guessed out, right)."""
    if not 0 < guesses <= len(scores):
        raise ValueError(f"between 1 and {len(scores)} guesses, got {guesses}")
    order = np.argsort(-np.asarray(scores), kind="stable")
    high, low = guesses // 2, guesses - guesses // 2
    right = int(inserted[order[:high]].sum()) + int((~inserted[order[len(order) - low:]]).sum())
    return high, low, right


@dataclass(frozen=True)
class AuditResult:
    kind: str  # "black-box" (data canaries, scored from the trained model) or "white-box" (gradient canaries)
    canaries: int
    inserted: int  # canaries that went into the training run
    guesses: int  # the guesses the bounds rest on: guesses_in + guesses_out, the rest abstained on
    guesses_in: int
    guesses_out: int
    correct: int
    epsilon_lower_bound: float  # Steinke et al., at `confidence`
    epsilon_lower_bound_fdp: float  # Mahloujifar et al., the Gaussian trade-off curve refuted, as epsilon at delta
    mu_lower_bound: float  # the mu-GDP curve that bound refutes
    epsilon_ceiling: float  # the most Steinke et al.'s analysis could prove with these canaries and guess counts
    epsilon_ceiling_fdp: float  # the same for the f-DP analysis
    accountant_epsilon: float | None  # DP-SGD's accountant; None without DP (no promise)
    accountant_mu: float | None  # the mu-GDP curve with the accountant's epsilon at delta
    delta: float
    confidence: float
    guess_counts: tuple[int, ...]  # the counts tried, fixed in advance
    signal: str
    train_accuracy: float
    test_accuracy: float
    seconds: float
    trade_off: dict = field(default_factory=dict)  # {"fpr": [...], "tpr": [...]}: the canaries' scores as a test

    def to_dict(self) -> dict:
        out = asdict(self)
        out["guess_counts"] = list(self.guess_counts)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "AuditResult":
        return cls(**{**d, "guess_counts": tuple(d["guess_counts"])})

    def summary(self) -> str:
        counts = (f"{self.correct} of {self.guesses} guesses right ({self.guesses_in} guessed in, {self.guesses_out} "
                  f"out, {self.canaries - self.guesses} abstained; {self.inserted} of {self.canaries} canaries "
                  f"inserted), {self.kind}")
        proved = (f"epsilon at least {self.epsilon_lower_bound:.2f} (Steinke et al.; ceiling "
                  f"{self.epsilon_ceiling:.2f}), at {self.confidence:.0%} confidence and delta {self.delta:g}; the "
                  f"f-DP analysis refutes mu-GDP below mu = {self.mu_lower_bound:.3f}, which for a Gaussian trade-off "
                  f"curve is epsilon {self.epsilon_lower_bound_fdp:.2f} at that delta (ceiling "
                  f"{self.epsilon_ceiling_fdp:.2f})")
        if self.accountant_epsilon is None:
            return (f"{counts}. The target was trained without DP: no finite epsilon is promised; the audit proves at "
                    f"least {self.epsilon_lower_bound:.2f}, and could not prove more than the ceiling "
                    f"{self.epsilon_ceiling:.2f} with this many canaries. Proved: {proved}.")
        return (f"{counts}. Proved: {proved}. The accountant's epsilon {self.accountant_epsilon:.2f} is "
                f"{ACCOUNTANT_NOTE} (at delta {self.delta:g}); the truth lies between.")


def judge(scores: np.ndarray, inserted: np.ndarray, guess_counts: tuple[int, ...], *, delta: float,
          confidence: float, accountant_epsilon: float | None) -> dict:
    """Both bounds for each guess count (Bonferroni over them), those of the count with the best bound, the
    ceilings (every guess right at the largest count), and the canaries' trade-off curve: AuditResult's fields."""
    scores, inserted = np.asarray(scores, float), np.asarray(inserted, bool)
    m = len(scores)
    per_test = 1 - (1 - confidence) / len(guess_counts)
    tried = []
    for k in guess_counts:
        high, low, right = correct_guesses(scores, inserted, k)
        mu = mu_lower_bound(canaries=m, guesses=k, correct=right, confidence=per_test)
        steinke = epsilon_lower_bound(canaries=m, guesses=k, correct=right, delta=delta, confidence=per_test)
        tried.append((max(gdp_epsilon(mu, delta), steinke), steinke, mu, k, high, low, right))
    _, steinke, mu, k, high, low, right = max(tried)
    ceiling = epsilon_ceiling(canaries=m, guesses=max(guess_counts), delta=delta, confidence=per_test)
    fpr, tpr, _ = roc_curve(inserted, scores)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), CURVE_POINTS)).round().astype(int))
    return dict(canaries=m, inserted=int(inserted.sum()), guesses=k, guesses_in=high, guesses_out=low, correct=right,
                epsilon_lower_bound=steinke, epsilon_lower_bound_fdp=gdp_epsilon(mu, delta), mu_lower_bound=mu,
                epsilon_ceiling=ceiling["steinke"], epsilon_ceiling_fdp=ceiling["fdp"],
                accountant_epsilon=accountant_epsilon,
                accountant_mu=None if accountant_epsilon is None else gdp_mu(accountant_epsilon, delta),
                delta=delta, confidence=confidence, guess_counts=tuple(guess_counts),
                trade_off={"fpr": np.round(fpr[keep], 6).tolist(), "tpr": np.round(tpr[keep], 6).tolist()})
