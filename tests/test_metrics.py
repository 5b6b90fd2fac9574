import numpy as np
import pytest

from mia_core.metrics import chance_band, counted_auc, evaluate, roc


def test_metrics_against_hand_computed_values():
    # 4 members, 4 non-members. Decisions at 0.5: members -> T T T F, non-members -> T F F F.
    scores = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.4, 0.2, 0.1])
    member = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    m, curve = evaluate(scores, scores, member)
    assert m.accuracy == pytest.approx(6 / 8)
    assert m.precision == pytest.approx(3 / 4)
    assert m.recall == pytest.approx(3 / 4)
    assert m.f1 == pytest.approx(3 / 4)
    # AUC: of the 16 member/non-member pairs, the member scores higher in all but (0.6 < 0.7), (0.3 < 0.7), (0.3 < 0.4).
    assert m.auc == pytest.approx(13 / 16)
    # Best threshold 0.8 < t <= 0.9... advantage = max(TPR - FPR): at t=0.6, TPR 3/4, FPR 1/4 -> 0.5; at t=0.8: 2/4 - 0 = 0.5.
    assert m.advantage == pytest.approx(0.5)
    # 4 non-members cannot resolve a TPR at 1% FPR (it needs 1,000): no number, a reason
    assert m.tpr_at_fpr == {"0.01": None, "0.001": None} and m.tpr_at_fpr_ci == {"0.01": None, "0.001": None}
    assert m.tpr_at_fpr_note["0.01"].startswith("TPR at 1.0% FPR needs at least 1,000 non-members")
    assert curve.tpr_at_fpr(0.01) == pytest.approx(0.5)  # two members score above every non-member
    assert (m.members, m.non_members) == (4, 4)


def test_accuracy_and_precision_are_at_a_fifty_percent_prior():
    """1 member in 11: always answering "non-member" is 91% accurate on the raw counts, 50% at the stated prior."""
    member = np.r_[np.ones(10, bool), np.zeros(100, bool)]
    m, _ = evaluate(np.zeros(110), np.zeros(110), member)
    assert m.accuracy == 0.5 and m.recall == 0 and m.precision == 0
    decided = np.r_[np.ones(10), np.ones(10), np.zeros(90)]  # every member, and 10% of non-members
    m, _ = evaluate(decided, decided, member)
    assert m.accuracy == pytest.approx(0.95) and m.precision == pytest.approx(1 / 1.1)


def test_the_resolution_rule():
    from mia_core.metrics import needed_non_members, resolution_note

    assert needed_non_members(0.01) == 1000 and needed_non_members(0.001) == 10_000
    assert resolution_note(0.01, 1000) is None
    assert "needs at least 1,000 non-members" in resolution_note(0.01, 999)


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_metrics_match_sklearn_on_resamples(seed):
    """The bootstrap's fast forms against sklearn on the resampled values themselves: 3 resamples, drawn with
    replacement, of scores with ties."""
    from mia_core.metrics import TiedCounts, batch_tpr_at_fpr, counted_advantage, counted_auc

    rng = np.random.default_rng(seed)
    x, y = np.round(rng.normal(0.5, 1, 300), 1), np.round(rng.normal(0, 1, 2000), 1)  # members, non-members
    i, j = rng.integers(0, 300, (3, 300)), rng.integers(0, 2000, (3, 2000))  # drawn positions
    members, non_members = TiedCounts(x, y).counts(i, j)
    for row in range(3):
        curve = roc(np.r_[x[i[row]], y[j[row]]], np.r_[np.ones(300, bool), np.zeros(2000, bool)])
        assert counted_auc(members, non_members)[row] == pytest.approx(curve.auc)
        assert counted_advantage(members, non_members)[row] == pytest.approx(curve.advantage)
        for fpr in (0.01, 0.001, 0.05):
            assert batch_tpr_at_fpr(x[i], y[j], fpr)[row] == pytest.approx(curve.tpr_at_fpr(fpr))


def test_intervals_hold_the_figure_and_narrow_with_more_records():
    rng = np.random.default_rng(0)
    widths = []
    for n in (200, 2000):
        member = np.r_[np.ones(n, bool), np.zeros(n, bool)]
        statistic = rng.normal(member * 0.5, 1)
        m, _ = evaluate(statistic, statistic > 0.25, member)
        for figure in ("auc", "advantage", "accuracy"):
            low, high = getattr(m, f"{figure}_ci")
            assert low <= getattr(m, figure) <= high
        widths.append(m.auc_ci[1] - m.auc_ci[0])
    assert widths[1] < widths[0] / 2  # ten times the records, about a third of the width


def test_perfect_and_chance_attacks():
    member = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    perfect = roc(member.astype(float), member)
    assert perfect.auc == 1 and perfect.advantage == 1 and perfect.tpr_at_fpr(0.001) == 1
    rng = np.random.default_rng(0)
    chance = roc(rng.random(100_000), rng.random(100_000) < 0.5)
    assert chance.auc == pytest.approx(0.5, abs=0.01)
    assert chance.tpr_at_fpr(0.01) == pytest.approx(0.01, abs=0.005)


def test_most_exposed_ranks_members_only():
    from mia_core.metrics import most_exposed

    scores = np.array([0.9, 0.2, 0.99, 0.7, 0.8])
    member = np.array([False, True, True, True, False])
    assert most_exposed(scores, member, 2).tolist() == [2, 3]


def test_chance_band_matches_simulated_coin_flip_attacks():
    """The reference: AUCs of 2000 attacks that score 200 members and 200 non-members at random."""
    rng = np.random.default_rng(0)
    member = np.r_[np.ones(200, bool), np.zeros(200, bool)]
    ranked = member[np.argsort(rng.random((2000, 400)), axis=-1)].astype(int)  # each attack's records by score
    aucs = counted_auc(ranked, 1 - ranked)  # test_vectorised_metrics_match_sklearn_on_resamples checks this form
    low, high = chance_band(200, 200)
    assert low == pytest.approx(np.quantile(aucs, 0.025), abs=0.005)
    assert high == pytest.approx(np.quantile(aucs, 0.975), abs=0.005)
    assert chance_band(1000, 1000)[1] < high  # more records, a narrower band
    with pytest.raises(ValueError, match="at least one member"):
        chance_band(0, 10)
