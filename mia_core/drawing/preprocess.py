"""Turn a drawing into the 28x28 digit a MNIST model expects.

MNIST's own recipe: crop to the ink, scale the longer side to 20 pixels keeping the
aspect ratio (anti-aliased), then place it in a 28x28 frame so that its centre of
mass sits at the centre.
"""

import numpy as np
from PIL import Image

INK_THRESHOLD = 30  # grey level (0-255) above which a pixel counts as ink
MIN_INK_PIXELS = 20  # fewer inked pixels than this on the canvas is "nothing drawn"
MIN_EXTENT = 0.15  # ink spanning less than this share of the canvas's longer side is a dot (a tap), not a digit


class EmptyDrawing(ValueError):
    """The canvas holds no digit to classify."""


class DotDrawing(EmptyDrawing):
    """The canvas holds ink, but too little of the canvas to be a digit: a tap or a dot."""


def ink(image: np.ndarray) -> np.ndarray:
    """Grey ink in [0, 255] from a canvas: RGBA [H, W, 4], RGB [H, W, 3] or grey [H, W].

    Light strokes on a dark or transparent background count as ink, as in MNIST.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected a grey, RGB or RGBA image, got shape {list(image.shape)}")
    grey = image[..., :3].mean(axis=2)
    if image.shape[2] == 4:
        grey = grey * image[..., 3] / 255.0  # transparent pixels carry no ink
    return grey


def to_mnist(image: np.ndarray | None) -> np.ndarray:
    """A drawing of any size -> uint8 [28, 28], MNIST-style. Raises EmptyDrawing if nothing is drawn."""
    if image is None:
        raise EmptyDrawing("draw a digit first: the canvas is empty")
    grey = ink(image)
    mask = grey > INK_THRESHOLD
    if mask.sum() < MIN_INK_PIXELS:
        raise EmptyDrawing("draw a digit first: the canvas is (almost) empty")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 < MIN_EXTENT * max(grey.shape):
        raise DotDrawing("draw a digit first: a dot is not a digit")
    crop = grey[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # -> [h, w] around the ink
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL wants (width, height)
    small = np.asarray(Image.fromarray(crop.astype(np.uint8)).resize(size, Image.LANCZOS), dtype=np.float64)
    small = np.clip(small, 0, 255)  # -> at most [20, 20]
    # Centre of mass to the centre: paste into a 56x56 frame, then cut the 28x28 around the mass.
    frame = np.zeros((56, 56))
    top, left = (56 - small.shape[0]) // 2, (56 - small.shape[1]) // 2
    frame[top:top + small.shape[0], left:left + small.shape[1]] = small
    ys, xs = np.indices(frame.shape)
    total = frame.sum()
    cy, cx = round((ys * frame).sum() / total), round((xs * frame).sum() / total)
    return frame[cy - 14:cy + 14, cx - 14:cx + 14].round().astype(np.uint8)  # -> [28, 28]
