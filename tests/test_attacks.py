import numpy as np
import pytest
from scipy.special import softmax

from conftest import synthetic_logits
from mia_core.attacks import ATTACKS, AttackData, ReferenceData, ReferenceQuery, make_attack
from mia_core.attacks.label_only import QUERY_COUNT
from mia_core.attacks.shadow import features
from mia_core.attacks.signals import (neg_entropy, neg_log_loss, neg_modified_entropy, scaled_confidence,
                                     scaled_true_class_confidence, true_class_probability)
from mia_core.training.many import balanced_keep
from mia_core.metrics import roc

SHADOW_BASED = [name for name in ATTACKS if make_attack(name).needs == "shadow" and make_attack(name).reads == "confidence"]
REFERENCE_BASED = [name for name in ATTACKS if make_attack(name).needs == "references"]


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


def test_the_true_class_signals_of_many_models_at_once_are_each_models_own():
    """logits [R, N, C] of R models on the same records: each model's row, bit for bit (the reference attacks read
    all their models' signals this way)."""
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(0, 3, (4, 50, 10)), rng.integers(0, 10, 50)
    for signal in (scaled_true_class_confidence, true_class_probability):
        together = signal(logits, labels)
        assert together.shape == (4, 50)
        assert all(np.array_equal(together[r], signal(logits[r], labels)) for r in range(4))
    p = softmax(logits[0], axis=1)[np.arange(50), labels]
    assert np.allclose(scaled_true_class_confidence(logits[0], labels), np.log(p / (1 - p)))
    assert np.allclose(true_class_probability(logits[0], labels), p)


@pytest.mark.parametrize("name", SHADOW_BASED)
def test_attack_beats_chance_when_members_are_more_confident(name):
    rng = np.random.default_rng(0)
    shadow, target = attack_data(rng), attack_data(rng)
    attack = make_attack(name).fit(shadow)
    scores = attack.score(target.logits, target.labels)
    assert scores.shape == (len(target.labels),) and ((0 <= scores) & (scores <= 1)).all()
    assert roc(scores, target.member).auc > 0.9
    assert (attack.predict(target.logits, target.labels) == target.member).mean() > 0.8


@pytest.mark.parametrize("name", SHADOW_BASED)
def test_attack_sits_near_chance_when_members_look_like_everyone_else(name):
    rng = np.random.default_rng(1)
    shadow, target = attack_data(rng, member_shift=False), attack_data(rng, n=2000, member_shift=False)
    scores = make_attack(name).fit(shadow).score(target.logits, target.labels)
    assert roc(scores, target.member).auc == pytest.approx(0.5, abs=0.05)


def test_the_shadow_attack_fits_its_all_class_model_only_for_a_class_without_its_own():
    rng = np.random.default_rng(3)
    every_class = make_attack("shadow").fit(attack_data(rng))
    assert sorted(every_class.models_) == list(range(10)) and every_class.fallback_ is None
    data = attack_data(rng)
    keep = data.labels != 4  # no shadow record of class 4
    without = make_attack("shadow").fit(AttackData(data.logits[keep], data.labels[keep], data.member[keep]))
    assert 4 not in without.models_ and without.fallback_ is not None
    target = attack_data(rng)
    fours = target.labels == 4
    scores = without.score(target.logits, target.labels)
    assert np.array_equal(scores[fours], without.fallback_.predict_proba(features(target.logits[fours]))[:, 1])
    assert roc(scores[fours], target.member[fours]).auc > 0.9  # the model for every class still finds them


def test_threshold_attack_learns_its_threshold_on_shadow_data():
    rng = np.random.default_rng(2)
    attack = make_attack("loss").fit(attack_data(rng))
    # members' -log(loss) sit around +7, non-members' around -1 (see synthetic_logits): the cut is between.
    assert -1 < attack.threshold_ < 7


def test_a_signal_that_separates_nothing_gives_even_odds():
    logits = np.tile(np.eye(10)[3] * 20, (40, 1))  # every record gets the same confident answer
    data = AttackData(logits, np.full(40, 3), np.r_[np.ones(20, bool), np.zeros(20, bool)])
    attack = make_attack("loss").fit(data)
    assert np.allclose(attack.score(logits, data.labels), 0.5)


@pytest.mark.parametrize("name", [n for n in ATTACKS if make_attack(n).reads == "confidence"])
def test_every_attack_says_member_with_a_higher_statistic(name):
    """Direction by construction: on memorised records the statistic ranks members first (AUC > 0.5),
    and the member probability ranks them exactly as the statistic does."""
    rng = np.random.default_rng(6)
    if make_attack(name).needs == "references":
        refs, query, logits, labels, member = world(rng)
        attack = make_attack(name).fit(refs)
    else:
        fit_on, target = attack_data(rng), attack_data(rng)
        logits, labels, member, query = target.logits, target.labels, target.member, None
        attack = make_attack(name).fit(target if attack_needs_target(name) else fit_on)
    statistic, probability = attack.statistic(logits, labels, query), attack.score(logits, labels, query)
    assert roc(statistic, member).auc > 0.75
    assert roc(probability, member).auc == roc(statistic, member).auc


def attack_needs_target(name: str) -> bool:
    return make_attack(name).needs == "target_membership"


def test_unknown_attack_is_named():
    with pytest.raises(ValueError, match="unknown attack 'lira'"):
        make_attack("lira")


def test_attack_data_needs_both_labels():
    with pytest.raises(ValueError, match="both members and non-members"):
        AttackData(np.zeros((3, 10)), np.zeros(3, int), np.ones(3, bool))


def world(rng, *, n_models=8, n_records=600, n_population=300, boost=2.0, classes=10):
    """Records of varied difficulty; a model trained on a record is `boost` more confident on it."""
    labels = rng.integers(0, classes, n_records)
    difficulty = rng.normal(2, 2, n_records)  # per record: what makes per-example calibration pay off
    keep = balanced_keep(n_models + 1, n_records, seed=int(rng.integers(1000)))  # the last row is the target

    def logits_for(member_row, lab, diff):
        out = rng.normal(0, 0.5, (len(lab), classes))
        out[np.arange(len(lab)), lab] += diff + boost * member_row + rng.normal(0, 0.3, len(lab))
        return out

    all_logits = np.stack([logits_for(k, labels, difficulty) for k in keep])  # -> [R + 1, P, C]
    pop_labels = rng.integers(0, classes, n_population)
    pop_diff = rng.normal(2, 2, n_population)
    pop_logits = np.stack([logits_for(np.zeros(n_population), pop_labels, pop_diff) for _ in keep])
    refs = ReferenceData(all_logits[:-1], labels, keep[:-1], pop_logits[:-1], pop_labels)
    query = ReferenceQuery(all_logits[:-1], keep[:-1], pop_logits[-1])
    return refs, query, all_logits[-1], labels, keep[-1]


@pytest.mark.parametrize("name", REFERENCE_BASED)
def test_reference_attack_beats_chance_on_memorised_records(name):
    refs, query, target_logits, labels, member = world(np.random.default_rng(3))
    attack = make_attack(name).fit(refs)
    scores = attack.score(target_logits, labels, query)
    assert ((0 <= scores) & (scores <= 1)).all()
    auc = roc(scores, member).auc
    assert auc > 0.85
    # per-example calibration beats a global threshold on the same statistic
    assert auc > roc(scaled_true_class_confidence(target_logits, labels), member).auc


@pytest.mark.parametrize("n_models", [2, 3])
@pytest.mark.parametrize("name", REFERENCE_BASED)
def test_reference_attack_beats_chance_with_two_or_three_reference_models(name, n_models):
    """With 2 references the calibration's only other model is the pretend target's complement."""
    refs, query, target_logits, labels, member = world(np.random.default_rng(7), n_models=n_models)
    attack = make_attack(name).fit(refs)
    assert roc(attack.statistic(target_logits, labels, query), member).auc > 0.75
    unseen = attack.score(target_logits[~member], labels[~member], query_without(query, ~member))
    assert np.mean(unseen >= 0.5) < 0.5  # records no model trained on are mostly called non-members


def query_without(query, rows):
    return ReferenceQuery(query.logits[:, rows], query.keep[:, rows], query.target_population_logits)


@pytest.mark.parametrize("name", REFERENCE_BASED)
def test_reference_attack_sits_near_chance_when_training_changes_nothing(name):
    refs, query, target_logits, labels, member = world(np.random.default_rng(4), boost=0.0, n_records=2000)
    scores = make_attack(name).fit(refs).score(target_logits, labels, query)
    assert roc(scores, member).auc == pytest.approx(0.5, abs=0.05)


def test_reference_attacks_refuse_to_score_without_references():
    refs, *_ = world(np.random.default_rng(5), n_records=100)
    with pytest.raises(ValueError, match="needs the reference models"):
        make_attack("lira_online").fit(refs).score(np.zeros((1, 10)), np.zeros(1, int))




def label_answer_data(rng, n=500, *, keep_rate_members, keep_rate_others, copies=QUERY_COUNT):
    """Answers on altered copies: members keep their true label in `keep_rate_members` of them."""
    labels = rng.integers(0, 10, 2 * n)
    member = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    keep = rng.random((2 * n, copies)) < np.where(member, keep_rate_members, keep_rate_others)[:, None]
    answers = np.where(keep, labels[:, None], (labels[:, None] + 1) % 10)
    return AttackData(np.zeros((2 * n, 10)), labels, member, answers)


@pytest.mark.parametrize("name", ["label_only", "label_only_noise"])
def test_label_only_attacks_beat_chance_when_members_keep_their_label_and_not_otherwise(name):
    rng = np.random.default_rng(8)
    leaky = [label_answer_data(rng, keep_rate_members=0.9, keep_rate_others=0.7) for _ in range(2)]
    attack = make_attack(name).fit(leaky[0])
    assert roc(attack.statistic(None, leaky[1].labels, label_answers=leaky[1].label_answers), leaky[1].member).auc > 0.8
    null = [label_answer_data(rng, n=2000, keep_rate_members=0.8, keep_rate_others=0.8) for _ in range(2)]
    attack = make_attack(name).fit(null[0])
    auc = roc(attack.statistic(None, null[1].labels, label_answers=null[1].label_answers), null[1].member).auc
    assert auc == pytest.approx(0.5, abs=0.04)


def test_label_only_attack_needs_the_answers():
    with pytest.raises(ValueError, match="answers on altered copies"):
        make_attack("label_only").fit(attack_data(np.random.default_rng(0)))


def test_a_verdict_threshold_flags_at_most_its_share_of_the_attackers_own_non_members():
    from mia_core.attacks.base import threshold_at_fpr

    null = np.arange(1000.0)  # 1,000 distinct non-member statistics: 10 lie above 989
    assert threshold_at_fpr(null, 0.01) == 989.0
    assert (null > threshold_at_fpr(null, 0.01)).sum() == 10
    assert threshold_at_fpr(null[:999], 0.01) is None  # 9 false positives allowed: unresolved
    tied = np.r_[np.zeros(500), np.ones(500)]  # half the non-members share the top score
    assert threshold_at_fpr(tied, 0.01) is None
