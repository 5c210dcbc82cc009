"""A decoded picture of any mode and size -> grey floats at working size, and its block extremes.

Everything per-pixel in preprocess.py runs on a copy at most WORK_SIDE on a side, shrunk by box
averaging in the picture's own mode: no full-size RGBA, float or 16-bit copy is ever made (a
small file can decode to 6300x6300 pixels; only the decoded image itself is paid for at full
size). Averaging thins out what is narrower than the shrink factor k, a one-pixel stroke most of
all; block_extremes reads, strip by strip, the darkest and lightest source pixel behind each
shrunk one, for preprocess.extract_ink to tell a thin stroke from a blank page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

WORK_SIDE = 256  # images are shrunk to this, in their own mode, before any conversion or per-pixel work
EXTREMES_FROM = 2.0  # shrink factors from which block extremes are offered (below, a stroke loses at most half)
ORIENTATION = {  # EXIF tag 0x0112 -> the transpose that makes the picture upright (as ImageOps.exif_transpose)
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def to_grey(img: Image.Image) -> tuple[np.ndarray, Callable[[], Extremes] | None]:
    """First frame, shrunk in its own mode, transparency onto white, upright -> grey floats in [0, 1];
    and, when the shrink was EXTREMES_FROM-fold or more, a function reading each shrunk pixel's
    block extremes from the full-size image (only called when the shrunk image looks blank).

    Shrinking comes first so no full-size RGBA, float or 16-bit copy is ever made: a small file
    can decode to 6300x6300 pixels, and only the decoded image itself is paid for at full size.
    """
    if getattr(img, "is_animated", False):
        img.seek(0)
    img.load()
    turn = orientation(img)
    if img.mode == "P":
        img = img.point(palette_lut(img), "L")  # transparency composited per palette entry
    elif img.mode in ("1", "PA"):
        img = img.convert("L" if img.mode == "1" else "RGBA")
    small = shrink(img)
    top = _deep_top(small)
    grey = _small_to_grey(small, top)
    factor = max(img.size) / max(small.size)
    extremes = functools.partial(block_extremes, img, small.size, top, factor, turn)
    return _turn(grey, turn), extremes if factor >= EXTREMES_FROM else None


def _small_to_grey(img: Image.Image, top: float) -> np.ndarray:
    """A (shrunk) image in any mode -> grey floats in [0, 1]: alpha onto white, 16/32-bit scaled by top."""
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img.convert("RGBA"))
    if img.mode.startswith("I") or img.mode == "F":
        return np.clip(np.asarray(img, dtype=np.float32) / top, 0, 1)
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def _deep_top(img: Image.Image) -> float:
    """White's value in a 16/32-bit greyscale image: 65535 for 16-bit data, else 255 unless exceeded."""
    if not (img.mode.startswith("I") or img.mode == "F"):
        return 255.0
    return 65535.0 if img.mode.startswith("I;16") or float(np.asarray(img).max()) > 255 else 255.0


def _turn(a: np.ndarray, turn) -> np.ndarray:
    if turn is None:
        return a
    return np.asarray(Image.fromarray(np.ascontiguousarray(a, dtype=np.float32), "F").transpose(turn))


@dataclass
class Extremes:
    darkest: np.ndarray  # [h, w] the darkest grey of the source block behind each shrunk pixel
    lightest: np.ndarray  # [h, w] the lightest one
    factor: float  # the shrink factor k: a stroke one source pixel wide keeps at least 1/k of its contrast


def block_extremes(img: Image.Image, size: tuple[int, int], top: float, factor: float, turn=None) -> Extremes:
    """Darkest and lightest grey of the source pixels that each pixel of the box shrink to `size`
    averages (then turned upright), read in strips of one block row: no full-size grey copy is made."""
    w, h = img.size
    ow, oh = size
    col_starts = np.flatnonzero(np.diff((np.arange(w) * ow) // w, prepend=-1))
    row_block = (np.arange(h) * oh) // h
    darkest, lightest = np.empty((oh, ow), np.float32), np.empty((oh, ow), np.float32)
    for b in range(oh):
        rows = np.flatnonzero(row_block == b)
        strip = _small_to_grey(img.crop((0, int(rows[0]), w, int(rows[-1]) + 1)), top)
        darkest[b] = np.minimum.reduceat(strip.min(0), col_starts)
        lightest[b] = np.maximum.reduceat(strip.max(0), col_starts)
    return Extremes(_turn(darkest, turn), _turn(lightest, turn), factor)


def shrink(img: Image.Image) -> Image.Image:
    """Longest side down to WORK_SIDE by box averaging (the mean of each block, as thumbnail does)."""
    w, h = img.size
    if max(w, h) <= WORK_SIDE:
        return img
    scale = WORK_SIDE / max(w, h)
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)


def orientation(img: Image.Image):
    """The EXIF orientation's transpose, or None; a broken EXIF block is ignored, not fatal."""
    try:
        return ORIENTATION.get(img.getexif().get(0x0112))
    except Exception:  # "not a TIFF file", truncated IFDs...: the picture is still there
        return None


def palette_lut(img: Image.Image) -> list[int]:
    """Grey value of each palette entry composited onto white (ITU-R 601 luma, as PIL's convert)."""
    pal = (img.getpalette("RGB") or []) + [0] * 768
    alpha = [255] * 256
    t = img.info.get("transparency")
    if isinstance(t, int) and 0 <= t < 256:
        alpha[t] = 0
    elif isinstance(t, bytes):
        alpha[: len(t[:256])] = list(t[:256])
    lut = []
    for i in range(256):
        r, g, b = pal[3 * i : 3 * i + 3]
        grey = (r * 299 + g * 587 + b * 114) / 1000
        lut.append(int(round(grey * alpha[i] / 255 + 255 * (1 - alpha[i] / 255))))
    return lut
