"""What a workshop room shares: the game's leaderboard and the tally of answers to the presenter's question.

One `Room` per server, used from every session's thread at once: each method takes the room's lock.
Attendees appear under nicknames they choose; nothing else about them is kept, and a restart forgets all.
"""

import re
import threading
from dataclasses import dataclass, field

NICKNAME_RE = re.compile(r"^[\w .'-]{1,20}$")


def check_nickname(text: str) -> str:
    """A nickname for the leaderboard: 1-20 letters, digits, spaces, '.', "'", '_' or '-'."""
    name = " ".join(str(text).split())
    if not NICKNAME_RE.match(name):
        raise ValueError("a nickname is 1-20 letters, digits, spaces, dots, dashes or underscores "
                         "(a made-up one: no real names needed)")
    return name


@dataclass
class Standing:
    nickname: str
    rounds: int = 0
    human: int = 0  # right guesses, all rounds together
    attack: int = 0  # the attack's right verdicts on the same digits
    digits: int = 0

    @property
    def accuracy(self) -> float:
        return self.human / self.digits if self.digits else 0.0


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    options: tuple[str, ...]


@dataclass
class Room:
    """The leaderboard (by nickname, each claimed by one player) and the open question's answers (one per player)."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _standings: dict[str, Standing] = field(default_factory=dict)
    _owners: dict[str, str] = field(default_factory=dict)  # nickname (case-folded) -> the player who claimed it
    _question: Question | None = None
    _answers: dict[str, str] = field(default_factory=dict)  # player -> option

    # --- the leaderboard

    def claim(self, player: str, nickname: str) -> str:
        """`nickname` (cleaned) for `player` from now on, as soon as they type it; one that another player claimed
        first is refused (ValueError), before they play a round under it."""
        nickname = check_nickname(nickname)
        with self._lock:
            self._claimed(player, nickname)
        return nickname

    def _claimed(self, player: str, nickname: str) -> str:
        key = nickname.casefold()
        if self._owners.setdefault(key, player) != player:
            raise ValueError(f"someone else plays as {nickname!r}: choose another nickname")
        return key

    def record(self, player: str, nickname: str, *, human: int, attack: int, digits: int) -> Standing:
        """Add one round's score under `nickname`; a nickname another player claimed is refused (ValueError)."""
        nickname = check_nickname(nickname)
        with self._lock:
            key = self._claimed(player, nickname)
            row = self._standings.setdefault(key, Standing(nickname))
            row.rounds, row.human, row.attack, row.digits = (row.rounds + 1, row.human + human, row.attack + attack,
                                                             row.digits + digits)
            return Standing(**vars(row))

    def standings(self) -> list[Standing]:
        """Best guessers first (share of right guesses, then more digits played)."""
        with self._lock:
            rows = [Standing(**vars(r)) for r in self._standings.values()]
        return sorted(rows, key=lambda r: (-r.accuracy, -r.digits, r.nickname.casefold()))

    def reset_leaderboard(self) -> None:
        with self._lock:
            self._standings.clear()
            self._owners.clear()

    # --- the question the presenter asks the room

    def ask(self, question: Question) -> None:
        """Open `question` (a new key clears the answers; the same key keeps them)."""
        with self._lock:
            if self._question is None or self._question.key != question.key:
                self._answers.clear()
            self._question = question

    def close(self) -> None:
        with self._lock:
            self._question = None
            self._answers.clear()

    @property
    def question(self) -> Question | None:
        with self._lock:
            return self._question

    def answer(self, player: str, key: str, option: str) -> bool:
        """One answer per player to the open question `key` (a second replaces the first); False if it closed."""
        with self._lock:
            if self._question is None or self._question.key != key or option not in self._question.options:
                return False
            self._answers[player] = option
            return True

    def tally(self) -> dict[str, int]:
        """How many players chose each option of the open question (every option, zeros included)."""
        with self._lock:
            if self._question is None:
                return {}
            counts = dict.fromkeys(self._question.options, 0)
            for option in self._answers.values():
                counts[option] += 1
            return counts

    def answer_of(self, player: str) -> str | None:
        with self._lock:
            return self._answers.get(player)
