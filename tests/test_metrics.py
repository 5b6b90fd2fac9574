import numpy as np
import pytest

from mia_core.metrics import chance_band, evaluate, roc


def test_metrics_against_hand_computed_values():
    # 4 members, 4 non-members. Decisions at 0.5: members -> T T T F, non-members -> T F F F.
    scores = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.4, 0.2, 0.1])
    member = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    m, curve = evaluate(scores, member)
    assert m.accuracy == pytest.approx(6 / 8)
    assert m.precision == pytest.approx(3 / 4)
    assert m.recall == pytest.approx(3 / 4)
    assert m.f1 == pytest.approx(3 / 4)
    # AUC: of the 16 member/non-member pairs, the member scores higher in all but (0.6 < 0.7), (0.3 < 0.7), (0.3 < 0.4).
    assert m.auc == pytest.approx(13 / 16)
    # Best threshold 0.8 < t <= 0.9... advantage = max(TPR - FPR): at t=0.6, TPR 3/4, FPR 1/4 -> 0.5; at t=0.8: 2/4 - 0 = 0.5.
    assert m.advantage == pytest.approx(0.5)
    assert m.tpr_at_fpr["0.01"] == pytest.approx(0.5)  # two members score above every non-member
    assert (m.members, m.non_members) == (4, 4)


def test_perfect_and_chance_attacks():
    member = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    perfect = roc(member.astype(float), member)
    assert perfect.auc == 1 and perfect.advantage == 1 and perfect.tpr_at_fpr(0.001) == 1
    rng = np.random.default_rng(0)
    chance = roc(rng.random(100_000), rng.random(100_000) < 0.5)
    assert chance.auc == pytest.approx(0.5, abs=0.01)
    assert chance.tpr_at_fpr(0.01) == pytest.approx(0.01, abs=0.005)


def test_most_exposed_ranks_members_only():
    from mia_core.report import most_exposed

    scores = np.array([0.9, 0.2, 0.99, 0.7, 0.8])
    member = np.array([False, True, True, True, False])
    assert most_exposed(scores, member, 2).tolist() == [2, 3]


def test_chance_band_matches_simulated_coin_flip_attacks():
    """The reference: AUCs of 2000 attacks that score 200 members and 200 non-members at random."""
    rng = np.random.default_rng(0)
    member = np.r_[np.ones(200, bool), np.zeros(200, bool)]
    aucs = np.array([roc(rng.random(400), member).auc for _ in range(2000)])
    low, high = chance_band(200, 200)
    assert low == pytest.approx(np.quantile(aucs, 0.025), abs=0.005)
    assert high == pytest.approx(np.quantile(aucs, 0.975), abs=0.005)
    assert chance_band(1000, 1000)[1] < high  # more records, a narrower band
    with pytest.raises(ValueError, match="at least one member"):
        chance_band(0, 10)
