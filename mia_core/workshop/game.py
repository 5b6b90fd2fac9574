"""The membership game, played by a person against an attack.

A round deals digits from a target's evaluation records, half of them members (a coin the dealer flips,
as in the formal game of Yeom et al. 2018 and Salem et al. 2023), drawn afresh from the round's seed.
The attack's verdict on each is a decision at a low false-positive rate: a record is called a member
only when its statistic passes the threshold at which `fpr` of the attacker's *own* non-members would be
flagged (`MembershipAttack.flags`), never a threshold tuned on the target's labels.
"""

from dataclasses import dataclass

import numpy as np

from ..attacks import LABELS, MembershipAttack
from ..attacks.base import VERDICT_FPR
from ..data import Digits, to_model_input
from ..experiment.membership import verdict_attack
from ..storage.targets import LoadedTarget
from ..training import predict_logits

ROUND_SIZE = 10


@dataclass(frozen=True)
class Round:
    """One dealt round: which digits, and the truth the player must guess."""

    seed: int
    index: np.ndarray  # [N] dataset indices
    member: np.ndarray  # [N] bool: in the target's training set
    images: np.ndarray  # [N, 28, 28] uint8
    labels: np.ndarray  # [N] the digits' true classes


@dataclass(frozen=True)
class Verdicts:
    attack: str  # the attack's registry name
    label: str  # its name for people
    fpr: float
    flagged: np.ndarray  # [N] bool: called a member at `fpr`


@dataclass(frozen=True)
class Score:
    human: int  # right guesses
    attack: int  # right verdicts
    total: int


def deal(target: LoadedTarget, digits: Digits, seed: int, *, size: int = ROUND_SIZE) -> Round:
    """`size` digits of `target`'s members and held-out non-members, half each, shuffled, from `seed`."""
    if size < 2 or size % 2:
        raise ValueError(f"a round needs an even number of digits (at least 2), got {size}")
    splits = target.target.splits
    if len(splits.members) < size // 2 or len(splits.non_members) < size // 2:
        raise ValueError(f"{target.name} has too few known members or non-members for a round of {size}")
    rng = np.random.default_rng([seed, 27])
    members = rng.choice(splits.members, size // 2, replace=False)
    others = rng.choice(splits.non_members, size // 2, replace=False)
    order = rng.permutation(size)
    index = np.concatenate([members, others])[order]
    member = np.concatenate([np.ones(size // 2, bool), np.zeros(size // 2, bool)])[order]
    return Round(seed, index, member, digits.images[index], digits.labels[index].astype(np.int64))


def playing_attack(target: LoadedTarget, *, fpr: float = VERDICT_FPR) -> str | None:
    """The attack that plays: the one whose verdict the Membership page shows (`experiment.membership.verdict_attack`)."""
    references = 0 if target.references is None else len(target.references.data.keep)
    return verdict_attack({name: a.threshold_at(fpr) for name, a in target.attacks.items()}, references=references)


def verdicts(target: LoadedTarget, digits: Digits, dealt: Round, *, fpr: float = VERDICT_FPR) -> Verdicts:
    """The playing attack's member verdicts at `fpr` on the round's digits (labels: their true classes)."""
    name = playing_attack(target, fpr=fpr)
    if name is None:
        raise ValueError(f"no attack on {target.name} can set a threshold at {fpr:.1%} false positives")
    attack = target.attacks[name]
    logits = predict_logits(target.target.model, to_model_input(dealt.images))  # -> [N, C]
    reference = _reference_view(target, digits, dealt.index) if attack.needs == "references" else None
    flagged = attack.flags(attack.statistic(logits, dealt.labels, reference), fpr)
    return Verdicts(name, LABELS.get(name, name), fpr, np.asarray(flagged, bool))


def _reference_view(target: LoadedTarget, digits: Digits, index: np.ndarray):
    """The reference models' view of the round's records: from their stored outputs when all are in the pool."""
    refs = target.references
    if refs is None:
        return None
    if np.isin(index, refs.index).all():
        return refs.query(index, target.population_logits)
    return refs.query_new(to_model_input(digits.images[index]), target.population_logits)


def score(dealt: Round, guesses: list[bool], flagged: np.ndarray) -> Score:
    """Right answers of the person (`guesses`: True = member) and of the attack."""
    if len(guesses) != len(dealt.member):
        raise ValueError(f"{len(guesses)} guesses for {len(dealt.member)} digits")
    return Score(int((np.asarray(guesses, bool) == dealt.member).sum()), int((flagged == dealt.member).sum()),
                 len(dealt.member))
