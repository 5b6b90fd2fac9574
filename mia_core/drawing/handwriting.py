"""Digits drawn as pen strokes: the paths a browser test moves the mouse along on the Membership page's
canvas, and the 28x28 digits the same paths give when rendered here. Tests, the bench and the sample
drawings in assets/ use them as stand-ins for an attendee's handwriting.

    path = pen_path(7, seed=3)        # [(x, y), ...] in the unit square, y down
    image = drawn_digit(7, seed=3)    # uint8 [28, 28], through the canvas's own preprocessing
"""

import numpy as np
from PIL import Image, ImageDraw

from .preprocess import to_mnist

CANVAS = 280  # pixels, as the Membership page's canvas
PEN = 18  # stroke width in pixels, as the canvas's pen

# One stroke per digit, in the unit square (x right, y down): how one might draw it without lifting the pen.
_ZERO = [(0.5 + 0.3 * np.sin(t), 0.5 - 0.42 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 17)]
STROKES = {
    0: _ZERO,
    1: [(0.38, 0.22), (0.55, 0.08), (0.55, 0.92)],
    2: [(0.2, 0.25), (0.35, 0.1), (0.65, 0.1), (0.78, 0.3), (0.6, 0.55), (0.2, 0.9), (0.82, 0.9)],
    3: [(0.2, 0.12), (0.75, 0.12), (0.45, 0.45), (0.75, 0.6), (0.7, 0.85), (0.4, 0.92), (0.2, 0.82)],
    4: [(0.6, 0.92), (0.6, 0.08), (0.18, 0.62), (0.85, 0.62)],
    5: [(0.78, 0.1), (0.3, 0.1), (0.25, 0.45), (0.6, 0.42), (0.78, 0.62), (0.68, 0.86), (0.4, 0.92), (0.2, 0.82)],
    6: [(0.7, 0.1), (0.4, 0.3), (0.25, 0.65), (0.35, 0.9), (0.65, 0.9), (0.75, 0.7), (0.6, 0.52), (0.35, 0.55),
        (0.27, 0.68)],
    7: [(0.18, 0.12), (0.82, 0.12), (0.45, 0.92)],
    8: [(0.5, 0.5), (0.3, 0.32), (0.4, 0.1), (0.6, 0.1), (0.7, 0.32), (0.5, 0.5), (0.28, 0.7), (0.4, 0.92),
        (0.6, 0.92), (0.72, 0.7), (0.5, 0.5)],
    9: [(0.72, 0.35), (0.55, 0.12), (0.32, 0.18), (0.3, 0.4), (0.5, 0.5), (0.72, 0.35), (0.7, 0.92)],
}


HAND_JITTER = 0.12  # how far one hand's pen points stray from the stroke's, in the unit square


def pen_path(label: int, *, seed: int, jitter: float = 0.06) -> list[tuple[float, float]]:
    """Digit `label`'s stroke as one hand would draw it: slanted, scaled and wobbled by `seed`."""
    if label not in STROKES:
        raise ValueError(f"no stroke for digit {label!r}; digits are 0-9")
    rng = np.random.default_rng([seed, label])
    points = np.array(STROKES[label], dtype=np.float64)  # [P, 2]
    slant, scale = rng.normal(0, 0.12), rng.uniform(0.8, 1.0)
    points = (points - 0.5) * scale
    points[:, 0] -= slant * points[:, 1]  # lean the top to the right for slant > 0
    points += 0.5 + rng.normal(0, jitter, points.shape)
    return [(float(x), float(y)) for x, y in np.clip(points, 0.05, 0.95)]


def render(path: list[tuple[float, float]], *, size: int = CANVAS, pen: int = PEN) -> np.ndarray:
    """A pen path drawn white on black, as on the canvas: uint8 [size, size]."""
    image = Image.new("L", (size, size), 0)
    ImageDraw.Draw(image).line([(x * size, y * size) for x, y in path], fill=255, width=pen, joint="curve")
    return np.asarray(image)


def drawn_digit(label: int, *, seed: int, jitter: float = 0.06) -> np.ndarray:
    """uint8 [28, 28]: digit `label` drawn by hand `seed`, preprocessed as the canvas's drawings are."""
    return to_mnist(render(pen_path(label, seed=seed, jitter=jitter)))


def sample_drawings(*, planted: int = 10, kept_out: int = 10, seed: int = 0,
                    jitter: float = HAND_JITTER) -> dict[str, np.ndarray]:
    """An attendee's drawings as `plant --digits` reads them: digits 0-9 in turn, the first `planted` to plant, the
    rest kept out, so both sides show the same digits; each drawing by its own hand (its own seed)."""
    labels = np.arange(planted + kept_out) % 10
    images = np.stack([drawn_digit(int(label), seed=seed * 1000 + i, jitter=jitter) for i, label in enumerate(labels)])
    return {"images": images, "labels": labels, "planted": np.arange(len(labels)) < planted}


def even_odd_drawings(*, hands: int = 2) -> dict[str, np.ndarray]:
    """A confound to show, not a test to run: even digits planted and odd ones kept out, each drawn by `hands`
    hands. An attack then partly tells even digits from odd ones, which a target that trained on none of them
    already does: the plant's baseline shows an AUC away from 0.5."""
    labels = np.array([label for _ in range(hands) for label in (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)])
    images = np.stack([drawn_digit(int(label), seed=i) for i, label in enumerate(labels)])
    return {"images": images, "labels": labels, "planted": labels % 2 == 0}
