"""The membership game on the shipped overfit demo: rounds are seeded, half members, and the attack's verdicts
are its flags at 1% FPR, from a threshold set on its own non-members."""

import dataclasses

import numpy as np
import pytest

from mia_core.attacks.base import VERDICT_FPR
from mia_core.workshop.game import deal, playing_attack, score, verdicts
from mia_core.experiment.membership import VERDICT_PREFERENCE
from mia_core.storage.store import default_store
from mia_core.storage.targets import load_with_attacks


@pytest.fixture(scope="module")
def demo(digits):
    return load_with_attacks(default_store(), "demo-overfit", digits)


def test_a_round_is_half_members_drawn_afresh_from_its_seed(demo, digits):
    first, again, other = deal(demo, digits, 3), deal(demo, digits, 3), deal(demo, digits, 4)
    assert np.array_equal(first.index, again.index) and not np.array_equal(first.index, other.index)
    assert first.member.sum() == 5 and len(first.index) == 10 == len(set(first.index.tolist()))
    splits = demo.target.splits
    assert np.isin(first.index[first.member], splits.members).all()
    assert np.isin(first.index[~first.member], splits.non_members).all()
    assert np.array_equal(first.images, digits.images[first.index])
    with pytest.raises(ValueError, match="even number"):
        deal(demo, digits, 0, size=3)


def test_the_strongest_attack_the_attacker_has_plays_at_its_own_threshold(demo, digits):
    name = playing_attack(demo)
    assert name == next(a for a in VERDICT_PREFERENCE if a in demo.attacks)  # the Membership page's verdict attack
    without = dataclasses.replace(demo, attacks={k: v for k, v in demo.attacks.items() if k != name})
    assert playing_attack(without) != name
    dealt = deal(demo, digits, 11)
    said = verdicts(demo, digits, dealt)
    attack = demo.attacks[said.attack]
    expected = attack.statistic(*_target_view(demo, digits, dealt, attack)) > attack.threshold_at(VERDICT_FPR)
    assert np.array_equal(said.flagged, expected)


def _target_view(demo, digits, dealt, attack):
    from mia_core.data import to_model_input
    from mia_core.training import predict_logits

    logits = predict_logits(demo.target.model, to_model_input(dealt.images))
    reference = demo.references.query(dealt.index, demo.population_logits) if attack.needs == "references" else None
    return logits, dealt.labels, reference


def test_over_many_rounds_the_attack_flags_few_non_members(demo, digits):
    """At 1% FPR, on 500 non-members, far fewer than 5% are flagged (binomial: 20 is p < 1e-5 at 1%)."""
    flagged_outsiders = 0
    for seed in range(100):
        dealt = deal(demo, digits, seed)
        flagged_outsiders += int(verdicts(demo, digits, dealt).flagged[~dealt.member].sum())
    assert flagged_outsiders < 20


def test_score_counts_right_answers_of_both_players(demo, digits):
    dealt = deal(demo, digits, 5)
    points = score(dealt, dealt.member.tolist(), ~dealt.member)
    assert (points.human, points.attack, points.total) == (10, 0, 10)
    with pytest.raises(ValueError):
        score(dealt, [True], dealt.member)
