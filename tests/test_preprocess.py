import numpy as np
import pytest

from mia_core.drawing.preprocess import DotDrawing, EmptyDrawing, to_mnist


def canvas(size=280):
    c = np.zeros((size, size, 4), np.uint8)
    c[..., 3] = 255  # an opaque black background, as the app's canvas has
    return c


def centre_of_mass(img):
    ys, xs = np.indices(img.shape)
    return (ys * img).sum() / img.sum(), (xs * img).sum() / img.sum()


def test_a_vertical_stroke_becomes_a_centred_20_pixel_tall_digit():
    c = canvas()
    c[40:240, 130:150, :3] = 255  # a "1": 200 px tall, 20 px wide
    img = to_mnist(c)
    assert img.shape == (28, 28) and img.dtype == np.uint8
    rows = np.flatnonzero((img > 30).any(axis=1))
    assert 18 <= rows[-1] - rows[0] + 1 <= 21  # the longer side is scaled to 20
    cy, cx = centre_of_mass(img.astype(float))
    assert abs(cy - 14) < 1 and abs(cx - 14) < 1


def test_an_off_centre_digit_is_moved_to_the_centre():
    c = canvas()
    c[10:60, 10:20, :3] = 255  # small, in the top-left corner
    c[10:20, 10:50, :3] = 255
    img = to_mnist(c)
    cy, cx = centre_of_mass(img.astype(float))
    assert abs(cy - 14) < 1 and abs(cx - 14) < 1
    assert img[:2].sum() == 0 and img[:, :2].sum() == 0  # nothing pushed against the border


def test_transparent_background_and_grey_input_work_too():
    c = np.zeros((100, 100, 4), np.uint8)
    c[20:80, 45:55] = 255  # white, opaque stroke on a transparent canvas
    assert to_mnist(c).max() > 200
    grey = np.zeros((100, 100))
    grey[20:80, 45:55] = 255
    assert np.array_equal(to_mnist(grey), to_mnist(c))


@pytest.mark.parametrize("blank", [None, canvas(), canvas()[..., :3]])
def test_empty_canvas_asks_for_a_drawing(blank):
    with pytest.raises(EmptyDrawing, match="draw a digit first"):
        to_mnist(blank)


def test_a_speck_is_not_a_digit():
    c = canvas()
    c[100:103, 100:103, :3] = 255
    with pytest.raises(EmptyDrawing):
        to_mnist(c)


def test_a_tap_with_the_apps_pen_is_a_dot_not_a_digit():
    c = canvas()
    ys, xs = np.indices((280, 280))
    c[(ys - 140) ** 2 + (xs - 140) ** 2 <= 9 ** 2, :3] = 255  # one tap: a disc as wide as the 18 px pen
    with pytest.raises(DotDrawing, match="a dot is not a digit"):
        to_mnist(c)
    c[140:190, 131:150, :3] = 255  # the tap drawn on into a short stroke
    assert to_mnist(c).max() > 200


def test_odd_shapes_are_rejected_clearly():
    with pytest.raises(ValueError, match="grey, RGB or RGBA"):
        to_mnist(np.zeros((10, 10, 2)))


def test_real_mnist_digits_survive_preprocessing_almost_unchanged(digits):
    # MNIST digits are already 20x20-in-28x28 and mass-centred; doing it again moves little ink.
    for img in digits.images[:20]:
        again = to_mnist(img)
        assert np.abs(again.astype(int) - img.astype(int)).mean() < 25
