"""Settings carried in the page's URL (`?dropout=0.5&seed=3`), so that a link opens the same settings.

A page reads its link through one `LinkSettings`: each reader takes a value from `st.query_params` only if it is valid
for its widget; anything else (a typo, a value out of range) falls back to the default, so a hand-edited link never
breaks a page, and is noted, so that the page can say in one line what it did not understand (`say_what_was_refused`).
"""

import re
from dataclasses import dataclass, field

import streamlit as st


@dataclass(frozen=True)
class Refused:
    """A setting of the link that the page did not take as given: its key, its text, and what the page uses."""

    key: str
    given: str
    used: object


def as_text(value) -> str:
    """A setting's value as a page says it: on/off, a number without trailing zeros, names comma-separated."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


@dataclass
class LinkSettings:
    """One page run's reading of its link; `refused`: what it did not take as given, in reading order."""

    refused: list[Refused] = field(default_factory=list)

    def _given(self, key: str) -> str | None:
        return st.query_params.get(key)

    def _refuse(self, key: str, used):
        self.refused.append(Refused(key, self._given(key), used))
        return used

    def choice(self, key: str, options: list, default):
        """The option whose text is the link's `key` (or, among numbers, whose value it is), else `default`."""
        text = self._given(key)
        if text is None:
            return default
        found = next((option for option in options if str(option) == text), None)
        if found is None and options and all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in options):
            try:
                found = next((option for option in options if option == float(text)), None)
            except ValueError:
                found = None
        return self._refuse(key, default) if found is None else found

    def number(self, key: str, low: float, high: float, default, *, step: float = 1.0):
        """The link's `key` as a number in [low, high] on the widget's step grid, else `default`. A number off the
        grid is taken at its nearest grid point, and noted as such."""
        text = self._given(key)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            return self._refuse(key, default)
        if not low <= value <= high:
            return self._refuse(key, default)
        snapped = type(default)(round(round((value - low) / step) * step + low, 6))
        return snapped if abs(snapped - value) < 1e-9 else self._refuse(key, snapped)

    def flag(self, key: str, default: bool = False) -> bool:
        """The link's `key` as on ("1", "true", "on", "yes") or off ("0", "false", "off", "no"), else `default`."""
        text = self._given(key)
        if text is None:
            return default
        if text.lower() in ("1", "true", "on", "yes"):
            return True
        if text.lower() in ("0", "false", "off", "no"):
            return False
        return self._refuse(key, default)

    def names(self, key: str, available: list[str], default: list[str]) -> list[str]:
        """The comma-separated names in the link's `key` that are among `available`, else `default`; a name that
        is not among them is noted."""
        text = self._given(key)
        if text is None:
            return default
        named = [n for n in text.split(",") if n]
        known = [n for n in named if n in available]
        if len(known) < len(named) or not known:
            return self._refuse(key, known or default)
        return known

    def say_what_was_refused(self, container=st) -> None:
        """One info line in `container`: which settings of the link the page did not understand, and what it
        uses instead; nothing when it understood them all."""
        if not self.refused:
            return
        given = ", ".join(f"`{r.key}={clean(r.given)}`" for r in self.refused)
        used = ", ".join(f"{r.key} {as_text(r.used) or 'none'}" for r in self.refused)
        container.info(f"This page did not understand the link's {given}: it uses {used} instead.")


def clean(text: str, longest: int = 24) -> str:
    """A link's text, safe to print in code type: its first `longest` characters, anything but letters, digits and
    `.,+-_` as `?`."""
    text = re.sub(r"[^\w.,+-]", "?", text)
    return text if len(text) <= longest else text[:longest] + "…"


def to_url(**settings) -> None:
    """Write the settings into the URL (True/False as 1/0, lists comma-separated, None left out)."""
    def text(value) -> str:
        if isinstance(value, bool):
            return "1" if value else "0"
        return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    st.query_params.update({key: text(value) for key, value in settings.items() if value is not None})
