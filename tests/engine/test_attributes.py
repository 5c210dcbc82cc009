"""Shape attributes on synthetic strokes whose true values are known by construction."""

import math

import pytest
import torch

import vae_core
from vae_core.data import attributes


def rectangle(top, left, height, width, size=28):
    img = torch.zeros(1, 1, size, size)
    img[0, 0, top : top + height, left : left + width] = 1.0
    return img


def sheared_bar(degrees, width=3.0, height=18.0, size=28, supersample=8):
    """A bar of `width` px whose top leans right by `degrees`, anti-aliased by supersampling."""
    n = size * supersample
    coords = (torch.arange(n) + 0.5) / supersample
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    upright_x = xx - math.tan(math.radians(degrees)) * (size / 2 - yy)
    inside = ((upright_x - size / 2).abs() < width / 2) & ((yy - size / 2).abs() < height / 2)
    return inside.float().reshape(size, supersample, size, supersample).mean((1, 3))[None, None]


def rotated_bar(degrees, width, length=18.0, size=28, supersample=8):
    n = size * supersample
    coords = (torch.arange(n) + 0.5) / supersample - size / 2
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    a = math.radians(degrees)
    along, across = xx * math.cos(a) + yy * math.sin(a), -xx * math.sin(a) + yy * math.cos(a)
    inside = (along.abs() < length / 2) & (across.abs() < width / 2)
    return inside.float().reshape(size, supersample, size, supersample).mean((1, 3))[None, None]


def test_a_rectangle_measures_its_width_height_and_area():
    m = attributes.measure(rectangle(5, 6, 15, 12), trim=0)
    assert m["width"].item() == pytest.approx(12, abs=1e-3)
    assert m["height"].item() == pytest.approx(15, abs=1e-3)
    assert m["area"].item() == pytest.approx(180)
    assert m["slant"].item() == pytest.approx(0, abs=1e-6)
    trimmed = attributes.measure(rectangle(5, 6, 15, 12))  # default: the central 98 % of the ink
    assert trimmed["width"].item() == pytest.approx(0.98 * 12, abs=0.01)
    assert trimmed["height"].item() == pytest.approx(0.98 * 15, abs=0.01)


@pytest.mark.parametrize("width", [1, 2, 3, 4, 6])
def test_a_bar_of_known_width_measures_that_thickness(width):
    m = attributes.measure(rectangle(4, 10, 20, width), trim=0)
    # a 20-px bar: the corners of a pixel grid shorten the perimeter a little (within 5 %)
    assert m["thickness"].item() == pytest.approx(width, rel=0.05)
    assert m["width"].item() == pytest.approx(width, abs=1e-3)


@pytest.mark.parametrize("degrees", [0, 20, 45, 70, 90, 135])
def test_thickness_does_not_depend_on_the_stroke_direction(degrees):
    t = attributes.measure(rotated_bar(degrees, 3.0))["thickness"].item()
    assert t == pytest.approx(3.0, abs=0.3)


@pytest.mark.parametrize("degrees", [-25, -10, 0, 15, 30])
def test_a_sheared_line_measures_its_shear_angle_as_slant(degrees):
    m = attributes.measure(sheared_bar(degrees))
    assert m["slant"].item() == pytest.approx(degrees, abs=1.0)
    # deslanted, the bar is as wide as it was drawn (anti-aliased edge pixels add up to a pixel)
    assert 3.0 <= m["width"].item() <= 4.1


def test_thicker_and_bigger_digits_measure_bigger():
    m = attributes.measure(torch.cat([rectangle(4, 12, 20, 2), rectangle(4, 11, 20, 5)]), trim=0)
    assert m["thickness"][1] > 2 * m["thickness"][0] and m["area"][1] == 2.5 * m["area"][0]


def test_faint_haze_is_not_ink_and_brightness_does_not_matter():
    bar = rectangle(4, 10, 20, 3)
    hazy = (0.6 * bar + 0.1).clamp(0, 1)  # a dimmer stroke on a grey background, like a decoder's mean
    a, b = attributes.measure(bar, trim=0), attributes.measure(hazy, trim=0)
    for name in attributes.NAMES:
        assert b[name].item() == pytest.approx(a[name].item(), abs=1e-4), name


def test_an_empty_image_gives_nan_and_bad_input_one_clear_error():
    m = attributes.measure(torch.zeros(2, 1, 8, 8))
    assert all(torch.isnan(v).all() for v in m.values())
    with pytest.raises(ValueError, match=r"\[N, 1, H, W\]"):
        attributes.measure(torch.zeros(3, 28, 28, 3))
    with pytest.raises(ValueError, match="trim"):
        attributes.measure(torch.zeros(1, 1, 8, 8), trim=1.5)


def test_real_digits_measure_in_the_expected_ranges_in_chunks_and_at_once():
    x = vae_core.load_dataset("digits", "val").images
    whole, chunked = attributes.measure(x), attributes.measure(x, chunk=50)
    for name in attributes.NAMES:
        torch.testing.assert_close(whole[name], chunked[name])
        assert torch.isfinite(whole[name]).all()
    assert (whole["thickness"] > 0.5).all() and (whole["height"] <= 8).all()
    assert set(attributes.describe(whole)) == set(attributes.NAMES)
