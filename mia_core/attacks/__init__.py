"""Membership inference attacks, all behind `MembershipAttack` (fit, then score)."""

from functools import partial

from .base import AttackData, MembershipAttack, ReferenceData, ReferenceQuery
from .lira import LiRA
from .rmia import RMIA
from .shadow import OracleAttack, ShadowModelAttack
from .threshold import ThresholdAttack

ATTACKS = {
    "shadow": ShadowModelAttack,
    "loss": partial(ThresholdAttack, signal="loss"),
    "confidence": partial(ThresholdAttack, signal="confidence"),
    "entropy": partial(ThresholdAttack, signal="entropy"),
    "modified_entropy": partial(ThresholdAttack, signal="modified_entropy"),
    "oracle": OracleAttack,
    "lira_online": partial(LiRA, online=True),
    "lira_offline": partial(LiRA, online=False),
    "rmia": RMIA,
}

LABELS = {  # how each attack is named in tables and charts
    "shadow": "Shadow models (Shokri)",
    "loss": "Loss threshold",
    "confidence": "Confidence threshold",
    "entropy": "Entropy threshold",
    "modified_entropy": "Modified entropy (Song & Mittal)",
    "oracle": "Oracle (seed's setting, upper bound)",
    "lira_online": "LiRA online (Carlini et al.)",
    "lira_offline": "LiRA offline (Carlini et al.)",
    "rmia": "RMIA (Zarifzadeh et al.)",
}


def make_attack(name: str) -> MembershipAttack:
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r}; choose from {sorted(ATTACKS)}")
    return ATTACKS[name]()


__all__ = ["ATTACKS", "LABELS", "AttackData", "MembershipAttack", "ReferenceData", "ReferenceQuery", "make_attack"]
