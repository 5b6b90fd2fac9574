"""Label-only attacks choose their query setting on the attacker's shadow models."""

import numpy as np
import pytest

from mia_core.attacks import AttackData, make_attack
from mia_core.attacks.label_only import QUERY_COUNT, SETTINGS


def answers_leaking_in(setting: str, queries: str, n: int = 400, seed: int = 0) -> AttackData:
    """Members keep their label under the copies of `setting` more often than non-members; elsewhere alike."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, 2 * n)
    member = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    keep_rate = np.full((2 * n, QUERY_COUNT), 0.7)
    keep_rate[np.ix_(member, SETTINGS[queries][setting])] = 0.9
    keep = rng.random((2 * n, QUERY_COUNT)) < keep_rate
    answers = np.where(keep, labels[:, None], (labels[:, None] + 1) % 10)
    return AttackData(np.zeros((2 * n, 10)), labels, member, answers)


@pytest.mark.parametrize("queries, setting", [("noise", "noise std 2.0"), ("noise", "noise std 0.5"),
                                              ("shift", "shifts up to 2 pixels")])
def test_the_setting_that_tells_the_shadows_members_apart_is_chosen(queries, setting):
    attack = make_attack("label_only" if queries == "shift" else "label_only_noise")
    attack.fit(answers_leaking_in(setting, queries))
    assert attack.setting_ == setting
    assert attack.shadow_aucs_[setting] == max(attack.shadow_aucs_.values())


def test_answers_asked_with_another_set_of_queries_are_refused():
    data = answers_leaking_in("noise std 1.0", "noise")
    old = AttackData(data.logits, data.labels, data.member, data.label_answers[:, :39])
    with pytest.raises(ValueError, match="another set of queries"):
        make_attack("label_only_noise").fit(old)
