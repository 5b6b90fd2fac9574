import numpy as np
import pytest

from mia_core.experiment.membership import membership_report, query
from mia_core.drawing.preprocess import EmptyDrawing


def test_member_probabilities_for_a_drawn_digit(tiny_overfit_run):
    r = tiny_overfit_run
    attacks = {n: run.attack for n, run in r.attacks.items() if n != "seed_in_sample"}
    c = np.zeros((280, 280, 4), np.uint8)
    c[..., 3] = 255
    c[40:240, 130:150, :3] = 255
    report = membership_report(c, r.target.model, attacks)
    assert report.image.shape == (28, 28)
    assert report.probabilities.sum() == pytest.approx(1)
    assert report.label == report.predicted
    assert set(report.member_probability) == set(attacks)
    assert all(0 <= p <= 1 for p in report.member_probability.values())
    with pytest.raises(EmptyDrawing):
        membership_report(None, r.target.model, attacks)


def test_members_score_higher_than_non_members_on_average(tiny_overfit_run, digits):
    r = tiny_overfit_run
    loss = {"loss": r.attacks["loss"].attack}
    member = [query(r.target.model, digits.images[i], loss, label=digits.labels[i]).member_probability["loss"]
              for i in r.target.splits.members]
    outside = [query(r.target.model, digits.images[i], loss, label=digits.labels[i]).member_probability["loss"]
               for i in r.target.splits.non_members[:len(member)]]  # as many non-members as members
    assert np.mean(member) > np.mean(outside)
