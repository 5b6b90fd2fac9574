"""A verdict on one record: the strongest attack's decision at 1% FPR, with a threshold from the attacker's own models;
LiRA's picture of the record; a session's tally; one colour per attack."""

import dataclasses

import numpy as np
from scipy.stats import norm
import pytest
from streamlit.testing.v1 import AppTest

from mia_core.attacks import ATTACKS, ReferenceData, ReferenceQuery, make_attack
from mia_core.attacks.base import VERDICT_FPR
from mia_core.attacks.signals import scaled_true_class_confidence
from mia_core.present.charts import ATTACK_COLOURS, attack_order, lira_figure, member_probabilities
from mia_core.experiment.membership import LiraPicture, MembershipReport, Tally, Verdict, lira_picture, query
from mia_core.experiment.sweep import DefenceRun


def report(statistic: dict, threshold: dict, references: int) -> MembershipReport:
    return MembershipReport(np.zeros((28, 28), np.uint8), np.full(10, 0.1), 3, {a: 0.5 for a in statistic},
                            statistic, threshold, None, references)


def test_the_verdict_comes_from_online_lira_when_there_are_enough_reference_models():
    stats = {"lira_online": 5.0, "rmia": 0.2, "shadow": 0.9, "loss": -1.0}
    limits = {"lira_online": 2.0, "rmia": 0.99, "shadow": 0.7, "loss": 0.0}
    assert report(stats, limits, references=8).verdict == Verdict("lira_online", True, 5.0, 2.0)
    # with 2 reference models online LiRA's own threshold does not hold: RMIA decides
    assert report(stats, limits, references=2).verdict == Verdict("rmia", False, 0.2, 0.99)
    # no reference models: the shadow attack
    no_refs = {a: v for a, v in stats.items() if a not in ("lira_online", "rmia")}
    assert report(no_refs, limits, references=0).verdict.attack == "shadow"


def test_a_drawing_no_reference_model_trained_on_gets_its_verdict_from_an_attack_that_needs_no_in_models():
    stats = {"lira_online": 5.0, "lira_offline": -0.5, "rmia": 0.2}
    limits = {"lira_online": 2.0, "lira_offline": -1.0, "rmia": 0.99}
    drawn = dataclasses.replace(report(stats, limits, references=48), unseen=True)
    assert drawn.verdict == Verdict("rmia", False, 0.2, 0.99)


def test_an_attack_without_a_threshold_gives_no_verdict_and_the_next_one_decides():
    stats = {"lira_online": 5.0, "rmia": 0.995}
    found = report(stats, {"lira_online": None, "rmia": 0.99}, references=8).verdict
    assert found == Verdict("rmia", True, 0.995, 0.99)
    assert report(stats, {"lira_online": None, "rmia": None}, references=8).verdict is None


def test_a_record_exactly_at_the_threshold_is_not_flagged():
    assert not report({"shadow": 0.7}, {"shadow": 0.7}, references=0).verdict.flagged


def test_right_or_wrong_compares_the_flag_with_the_truth():
    flagged = Verdict("rmia", True, 1.0, 0.5)
    assert flagged.right(True) and not flagged.right(False)
    assert Verdict("rmia", False, 0.1, 0.5).right(False)


def test_the_tally_reads_as_a_sentence_with_the_coin_flip():
    tally = Tally()
    for i in range(20):
        tally = tally.add(member=True, flagged=i < 9).add(member=False, flagged=False)
    assert tally.sentence() == ("flagged 9 of 20 members and 0 of 20 non-members; at 1% FPR a coin flip flags about "
                                "1 in 100 (0.2 of 20 members, 0.2 of 20 non-members)")
    assert Tally().add(member=False, flagged=True).sentence() == (
        "flagged 1 of 1 non-member; at 1% FPR a coin flip flags about 1 in 100 (0.01 of 1 non-member)")
    assert Tally().sentence() == "no verdicts yet"


def test_a_query_takes_its_thresholds_from_the_attackers_own_non_members(tiny_overfit_run, digits):
    r = tiny_overfit_run
    attacks = {n: run.attack for n, run in r.attacks.items() if n != "seed_in_sample"}
    index = int(r.target.splits.members[0])
    got = query(r.target.model, digits.images[index], attacks, label=int(digits.labels[index]))
    for name, attack in attacks.items():
        assert got.threshold[name] == attack.threshold_at(VERDICT_FPR)
    # two small shadow models leave too few of the attacker's own non-members to resolve 1% FPR: no verdict, not a guess
    assert len(attacks["shadow"].null_statistic_) < 1000 and got.verdict is None


def synthetic_references(rng, models: int = 8, records: int = 300) -> ReferenceData:
    """Reference models whose confidence on a record is higher when they trained on it."""
    labels = rng.integers(0, 10, records)
    keep = rng.random((models, records)) < 0.5
    logits = rng.normal(0, 1, (models, records, 10))
    logits[:, np.arange(records), labels] += np.where(keep, 8.0, 4.0) + rng.normal(0, 1, (models, records))
    population = rng.normal(0, 1, (models, 600, 10))
    pop_labels = rng.integers(0, 10, 600)
    population[:, np.arange(600), pop_labels] += 4.0
    return ReferenceData(logits, labels, keep, population, pop_labels)


def test_lira_picture_of_a_pool_record_splits_its_reference_models_into_in_and_out():
    rng = np.random.default_rng(0)
    data = synthetic_references(rng)
    lira = make_attack("lira_online").fit(data)
    record = 7
    reference = ReferenceQuery(data.logits[:, [record]], data.keep[:, [record]], data.population_logits[0])
    target = data.logits[0, record]
    picture = lira_picture(lira, target, int(data.labels[record]), reference)
    values = scaled_true_class_confidence(data.logits[:, record], np.full(len(data.keep), data.labels[record]))
    keep = data.keep[:, record]
    assert np.allclose(np.sort(picture.out_values), np.sort(values[~keep]))
    assert np.allclose(np.sort(picture.in_values), np.sort(values[keep]))
    assert picture.in_centre == pytest.approx(np.mean(values[keep]))
    assert picture.target == pytest.approx(values[0])
    assert (picture.in_spread, picture.out_spread) == (lira.in_std_, lira.out_std_)


def test_lira_picture_draws_the_very_gaussians_whose_ratio_is_the_attacks_statistic():
    rng = np.random.default_rng(0)
    data = synthetic_references(rng)
    lira = make_attack("lira_online").fit(data)
    for record, keep in ((7, data.keep[:, [7]]), (9, np.zeros((len(data.keep), 1), bool))):  # a pool record; unseen
        reference = ReferenceQuery(data.logits[:, [record]], keep, data.population_logits[0])
        target = data.logits[0, record] + 1.0
        picture = lira_picture(lira, target, int(data.labels[record]), reference)
        ratio = (norm.logpdf(picture.target, picture.in_centre, picture.in_spread)
                 - norm.logpdf(picture.target, picture.out_centre, picture.out_spread))
        assert ratio == pytest.approx(lira.statistic(target[None], data.labels[[record]], reference)[0])


def test_lira_picture_of_a_new_digit_estimates_the_member_curve_from_the_learnt_shift():
    rng = np.random.default_rng(1)
    data = synthetic_references(rng)
    lira = make_attack("lira_online").fit(data)
    logits = rng.normal(0, 1, (8, 1, 10))
    logits[:, 0, 2] += 5
    new = ReferenceQuery(logits, np.zeros((8, 1), bool), data.population_logits[0])  # no reference model saw it
    picture = lira_picture(lira, logits[0, 0], 2, new)
    assert len(picture.in_values) == 0 and len(picture.out_values) == 8
    assert picture.in_centre - picture.out_centre == pytest.approx(lira.in_shift_)
    assert lira.in_shift_ > 2  # members are more confident by construction
    fig = lira_figure(picture)
    assert [t.name for t in fig.data if t.mode == "lines"] == ["reference models without it",
                                                                "what a member would look like (LiRA's estimate)"]


@pytest.mark.parametrize("out_spread, in_spread", [(1.0, 1.0), (2.5, 0.4), (0.3, 3.0)])
def test_lira_picture_shows_both_curves_whole_with_room_above_the_higher_peak(out_spread, in_spread):
    values = np.array([-1.0, 0.0, 0.5, 1.0])
    picture = LiraPicture(3, 2.0, values, values + 4, 0.0, 4.0, out_spread, in_spread)
    fig = lira_figure(picture)
    low, top = fig.layout.yaxis.range
    peaks = [max(t.y) for t in fig.data if t.mode == "lines"]
    assert len(peaks) == 2
    assert 1.05 * max(peaks) <= top <= 1.2 * max(peaks)  # about 10% above the higher curve: its top is not cut
    assert low < 0  # the reference models' ticks, drawn at 0, are not cut either


def test_the_member_probability_axis_reads_in_quarters():
    fig = member_probabilities({"a": {"shadow": 0.2, "rmia": 0.9}})
    assert list(fig.layout.xaxis.tickvals) == [0, 0.25, 0.5, 0.75, 1]
    assert tuple(fig.layout.xaxis.range) == (0, 1)


def test_every_attack_has_its_own_colour_and_the_seeds_fit_comes_last():
    assert set(ATTACK_COLOURS) == set(ATTACKS)
    assert len(set(ATTACK_COLOURS.values())) == len(ATTACKS)
    assert attack_order(["seed_in_sample", "rmia", "shadow"]) == ["shadow", "rmia", "seed_in_sample"]
    fig = member_probabilities({"a": {"shadow": 0.2, "rmia": 0.9}, "b": {"shadow": 0.4, "rmia": 0.6}})
    assert {t.name: t.marker.color for t in fig.data} == {"RMIA (Zarifzadeh et al.)": ATTACK_COLOURS["rmia"],
                                                          "Shadow models (Shokri)": ATTACK_COLOURS["shadow"]}


def defence_run(auc: float, low: float, high: float, accuracy: float, **settings) -> DefenceRun:
    return DefenceRun(settings={"dropout": 0.0, "weight_decay": 0.0, **settings}, seed=0, members=200,
                      train_accuracy=1.0, test_accuracy=accuracy, gap=1.0 - accuracy, epsilon=None, attacks={},
                      best_attack="rmia", best_auc=auc, best_auc_ci=(low, high), best_tpr=0.02, best_accuracy=0.55,
                      seconds=1.0)


def test_a_defence_run_is_one_sentence_that_says_whether_the_change_is_outside_the_intervals():
    from ui.defences import run_sentence

    first = defence_run(0.642, 0.60, 0.68, 0.901)
    inside = defence_run(0.649, 0.61, 0.69, 0.939, dropout=0.5, weight_decay=1e-3)
    said = run_sentence(2, inside, first)
    assert said.startswith("Run 2 (dropout=0.5, weight_decay=0.001) against run 1 (undefended)")
    assert "from 0.642 [0.600, 0.680] to 0.649 [0.610, 0.690], up; each inside the other's interval" in said
    assert "test accuracy 93.9% (+3.8%)" in said
    assert "a clear change" in run_sentence(3, defence_run(0.52, 0.48, 0.56, 0.95, dropout=0.5), first)
    edge = run_sentence(4, defence_run(0.59, 0.55, 0.63, 0.95, dropout=0.5), first)
    assert "a change at the edge" in edge and "down" in edge
    assert "useless" not in said
    assert "**This model is useless**" in run_sentence(5, defence_run(0.5, 0.46, 0.54, 0.105, dp_epsilon=3.0), first)


def headlines(runs: list[DefenceRun]):
    """The Defences page's headline figures for this session's `runs`."""
    def page(runs):
        from ui.defences import headline

        headline(runs)

    return AppTest.from_function(page, args=(runs,), default_timeout=30).run().metric


def test_the_first_defence_run_shows_its_figures_without_a_change_against_itself():
    first = defence_run(0.642, 0.6, 0.68, 0.9)
    alone = headlines([first])
    assert [m.value for m in alone] == ["90.0%", "+10.0%", "0.642", "0.020"] and all(not m.delta for m in alone)
    second = headlines([first, defence_run(0.6, 0.56, 0.64, 0.93, dropout=0.5)])
    assert [m.delta for m in second] == ["+3.0%", "-3.0%", "-0.042", "+0.000"]


def test_the_trade_off_chart_fits_a_phone_and_names_each_points_defences_on_hover():
    from mia_core.present.charts import privacy_utility

    runs = [defence_run(0.642, 0.6, 0.68, 0.9), defence_run(0.6, 0.56, 0.64, 0.93, dropout=0.5, weight_decay=1e-3)]
    fig = privacy_utility({"this session's runs": runs})
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0  # across, below the panels
    assert not fig.layout.annotations  # no titles above the panels to overlap each other
    assert [fig.layout[f"xaxis{n}"].title.text for n in ("", 2, 3)] == ["AUC", "TPR @ 1% FPR", "accuracy"]
    assert fig.data[0].mode == "markers"  # no printed labels to overlap: the settings show on hover
    assert list(fig.data[0].text) == ["dropout=0, weight_decay=0", "dropout=0.5, weight_decay=0.001"]
    bars = fig.data[0].error_x  # the best attack's 95% AUC interval
    assert list(bars.arrayminus) == pytest.approx([0.042, 0.04]) and list(bars.array) == pytest.approx([0.038, 0.04])
