import numpy as np
import pytest
from scipy.special import softmax

from conftest import synthetic_logits
from mia_core.attacks import ATTACKS, AttackData, make_attack
from mia_core.attacks.signals import neg_entropy, neg_log_loss, neg_modified_entropy, scaled_confidence
from mia_core.metrics import roc

REALISTIC = [name for name in ATTACKS if name != "oracle"]


def attack_data(rng, n=400, *, member_shift=True) -> AttackData:
    a = synthetic_logits(n, member=True, rng=rng)
    b = synthetic_logits(n, member=not member_shift, rng=rng)  # member_shift=False: same distribution
    return AttackData(np.r_[a[0], b[0]], np.r_[a[1], b[1]], np.r_[np.ones(n, bool), np.zeros(n, bool)])


def test_signals_match_a_direct_reference_implementation():
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    labels = np.array([0, 1])
    p = softmax(logits, axis=1)
    loss = -np.log(p[[0, 1], labels])
    assert np.allclose(neg_log_loss(logits, labels), -np.log(loss))
    top = p.max(1)
    assert np.allclose(scaled_confidence(logits, labels), np.log(top / (1 - top)))
    assert np.allclose(neg_entropy(logits, labels), (p * np.log(p)).sum(1))
    mentr = []
    for row, y in zip(p, labels):  # Song & Mittal's definition, written out term by term
        terms = [-(1 - row[y]) * np.log(row[y])] + [-row[i] * np.log(1 - row[i]) for i in range(3) if i != y]
        mentr.append(sum(terms))
    assert np.allclose(neg_modified_entropy(logits, labels), -np.array(mentr))


@pytest.mark.parametrize("name", REALISTIC)
def test_attack_beats_chance_when_members_are_more_confident(name):
    rng = np.random.default_rng(0)
    shadow, target = attack_data(rng), attack_data(rng)
    attack = make_attack(name).fit(shadow)
    scores = attack.score(target.logits, target.labels)
    assert scores.shape == (len(target.labels),) and ((0 <= scores) & (scores <= 1)).all()
    assert roc(scores, target.member).auc > 0.9
    assert (attack.predict(target.logits, target.labels) == target.member).mean() > 0.8


@pytest.mark.parametrize("name", REALISTIC)
def test_attack_sits_near_chance_when_members_look_like_everyone_else(name):
    rng = np.random.default_rng(1)
    shadow, target = attack_data(rng, member_shift=False), attack_data(rng, n=2000, member_shift=False)
    scores = make_attack(name).fit(shadow).score(target.logits, target.labels)
    assert roc(scores, target.member).auc == pytest.approx(0.5, abs=0.05)


def test_threshold_attack_learns_its_threshold_on_shadow_data():
    rng = np.random.default_rng(2)
    attack = make_attack("loss").fit(attack_data(rng))
    # members' -log(loss) sit around +7, non-members' around -1 (see synthetic_logits): the cut is between.
    assert -1 < attack.threshold_ < 7


def test_unknown_attack_is_named():
    with pytest.raises(ValueError, match="unknown attack 'lira'"):
        make_attack("lira")


def test_attack_data_needs_both_labels():
    with pytest.raises(ValueError, match="both members and non-members"):
        AttackData(np.zeros((3, 10)), np.zeros(3, int), np.ones(3, bool))
