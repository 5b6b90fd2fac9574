"""Settings carried in the page's URL (`?dropout=0.5&seed=3`), so that a link opens the same settings.

Each reader takes a value from `st.query_params` only if it is valid for its widget; anything else
(a typo, a value out of range) falls back to the default, so a hand-edited link never breaks a page.
"""

import streamlit as st


def url_choice(key: str, options: list, default):
    """The option whose text is the URL's `key`, else `default`."""
    text = st.query_params.get(key)
    return next((option for option in options if str(option) == text), default)


def url_number(key: str, low: float, high: float, default, *, step: float = 1.0):
    """The URL's `key` as a number in [low, high] on the widget's step grid, else `default`."""
    try:
        value = float(st.query_params[key])
    except (KeyError, ValueError):
        return default
    if not low <= value <= high:
        return default
    snapped = round(round((value - low) / step) * step + low, 6)
    return type(default)(snapped)


def url_refused(key: str, low: float, high: float) -> bool:
    """Whether the URL gives `key` a value outside [low, high], or not a number: `url_number` then falls back."""
    if key not in st.query_params:
        return False
    try:
        return not low <= float(st.query_params[key]) <= high
    except ValueError:
        return True


def url_flag(key: str, default: bool = False) -> bool:
    text = st.query_params.get(key)
    return default if text is None else text in ("1", "true", "on")


def url_names(key: str, available: list[str]) -> list[str]:
    """The comma-separated names in the URL's `key` that are among `available`."""
    return [n for n in st.query_params.get(key, "").split(",") if n in available]


def to_url(**settings) -> None:
    """Write the settings into the URL (True/False as 1/0, lists comma-separated, None left out)."""
    def text(value) -> str:
        if isinstance(value, bool):
            return "1" if value else "0"
        return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    st.query_params.update({key: text(value) for key, value in settings.items() if value is not None})
