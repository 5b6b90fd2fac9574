"""Membership inference attacks, all behind `MembershipAttack` (fit, then score).

scikit-learn, scipy.stats and scipy.optimize load inside the methods that use them: the configuration imports
this registry, so every process that trains a model does, and a training worker never runs an attack.
"""

from functools import partial

from .base import AttackData, MembershipAttack, ReferenceData, ReferenceQuery
from .label_only import LabelOnlyAttack
from .lira import LiRA
from .rmia import RMIA
from .shadow import SeedInSampleAttack, ShadowModelAttack
from .threshold import ThresholdAttack

ATTACKS = {
    "shadow": ShadowModelAttack,
    "loss": partial(ThresholdAttack, signal="loss"),
    "confidence": partial(ThresholdAttack, signal="confidence"),
    "entropy": partial(ThresholdAttack, signal="entropy"),
    "modified_entropy": partial(ThresholdAttack, signal="modified_entropy"),
    # The seed's setting memorises the records it is scored on: 300 epochs give the seed's 91% accuracy.
    "seed_in_sample": partial(SeedInSampleAttack, max_iter=300),
    "lira_online": partial(LiRA, online=True),
    "lira_offline": partial(LiRA, online=False),
    "rmia": RMIA,
    "label_only": partial(LabelOnlyAttack, queries="shift"),
    "label_only_noise": partial(LabelOnlyAttack, queries="noise"),
}

REALISTIC = tuple(name for name in ATTACKS if name != "seed_in_sample")  # what an attacker can actually run
IN_SAMPLE_NOTE = ("seed_in_sample = the seed project's setting: one attack model fitted and scored on the target's own "
                  "membership labels. No attacker has those labels, and it bounds nothing: an attack model can "
                  "memorise the labels of the records it is scored on even when the target leaks nothing.")

LABELS = {  # how each attack is named in tables and charts
    "shadow": "Shadow models (Shokri)",
    "loss": "Loss threshold",
    "confidence": "Confidence threshold",
    "entropy": "Entropy threshold",
    "modified_entropy": "Modified entropy (Song & Mittal)",
    "seed_in_sample": "Seed's in-sample fit (not an attack)",
    "lira_online": "LiRA online (Carlini et al.)",
    "lira_offline": "LiRA offline (Carlini et al.)",
    "rmia": "RMIA (Zarifzadeh et al.)",
    "label_only": "Label-only, shifts (Choquette-Choo et al.)",
    "label_only_noise": "Label-only, noise (Choquette-Choo et al.)",
}


def make_attack(name: str) -> MembershipAttack:
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r}; choose from {sorted(ATTACKS)}")
    return ATTACKS[name]()


__all__ = ["ATTACKS", "IN_SAMPLE_NOTE", "LABELS", "REALISTIC", "AttackData", "MembershipAttack", "ReferenceData", "ReferenceQuery", "make_attack"]
