"""Uploaded or drawn images -> MNIST-style digits: [1, 28, 28] floats in [0, 1], ink = 1.

MNIST digits were made by size-normalising each digit to fit a 20x20 box (aspect kept,
anti-aliased) and centring it in 28x28 by its centre of mass (LeCun et al., the MNIST page).
A model trained on them only understands inputs made the same way, so a photo goes through:
alpha onto white -> grey -> polarity (MNIST is light ink on black) -> flatten the background
(shadows, paper tint) -> crop to the ink -> 20 px longest side -> centre of mass at (14, 14).

Large pictures are shrunk first (greyscale.py), by box averaging, which thins out a stroke
narrower than the shrink factor k: a 1-px line on a 4000-px canvas keeps 1/16 of its contrast.
A picture that looks blank shrunk is read again on each block's darkest and lightest pixel
(extract_ink), so a thin stroke is ink at any canvas size while a blank page stays blank.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFile, UnidentifiedImageError

from .greyscale import WORK_SIDE, Extremes, to_grey

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # decoders we allow: PIL would also try EPS (Ghostscript!), etc.
MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (decompression bombs)
MAX_BYTES = 10 * 1024 * 1024  # uploads larger than this are refused unread
MAX_DECODED_BYTES = 100 * 2**20  # memory a decoded image may take (see decoded_bytes), checked before decoding
MIN_CONTRAST = 0.08  # ink weaker than this (on a 0..1 scale) is noise, not a digit
BOX, SIDE = 20, 28  # MNIST: digit fitted into 20x20, placed in 28x28
MIN_STROKE_PIXELS = 16  # a stroke that rescues a picture looking blank shrunk spans this many WORK_SIDE pixels
MIN_CORRELATION = 0.25  # neighbouring ink pixels correlate at least this much in strokes (check_strokes)
MIN_STROKE_WIDTHS = 1.6  # a digit's longest side is at least this many stroke widths (check_not_a_dot)
# Bytes per pixel a decoded image of each mode costs us: PIL's storage (1, 2 or 4 bytes) plus the
# one full-size copy made before shrinking (palette -> grey, bilevel -> grey, palette+alpha -> RGBA).
MODE_BYTES = {"1": 2, "L": 1, "P": 2, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "PA": 8}
FORMAT_COPIES = {"WEBP": 3}  # libwebp decodes into its own buffers, then PIL copies: ~3 images at once


class ImageRefused(ValueError):
    """An upload we will not use; the message is the one line shown to the user."""


def load_image(data: bytes, max_bytes: int = MAX_BYTES) -> Image.Image:
    """Decode uploaded bytes safely: size caps first, then PIL; ValueError with a human message."""
    if len(data) == 0:
        raise ImageRefused("The file is empty.")
    if len(data) > max_bytes:
        raise ImageRefused(f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    with decoding():
        img = Image.open(io.BytesIO(data), formats=FORMATS)  # by content, whatever the file is called
        check_size(img)
        img.draft("L", (WORK_SIDE, WORK_SIDE))  # JPEG: decode at 1/2..1/8 scale, much less memory
        check_size(img)
        img.load()
    return img


@contextlib.contextmanager
def decoding():
    """Whatever a damaged file makes PIL raise becomes one line (our own refusals pass through)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(
            f"The image is too large to open safely (more than {MAX_PIXELS // 10**6} megapixels)."
        ) from None
    except UnidentifiedImageError:
        raise ImageRefused("This file is not an image we can read (try PNG, JPEG, GIF, BMP or WebP).") from None
    except MemoryError:
        raise ImageRefused("The image is too large to decode here; try a smaller one.") from None
    except Exception as e:  # SyntaxError (bad EXIF/TIFF), OSError, EOFError, ValueError, struct.error, zlib...
        detail = (str(e).splitlines() or [type(e).__name__])[0][:120]
        raise ImageRefused(f"The image file is damaged or truncated ({detail}).") from None


def decoded_bytes(img: Image.Image) -> int:
    """What decoding `img` (and our first full-size copy of it) will cost, from its header alone."""
    w, h = img.size
    copies = FORMAT_COPIES.get(getattr(img, "format", None), 1)
    return w * h * MODE_BYTES.get(img.mode, 4) * copies


def check_size(img: Image.Image) -> None:
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ImageRefused(f"The image is {w}x{h} pixels, too large to open safely (limit {MAX_PIXELS // 10**6} MP).")
    if w < 1 or h < 1:
        raise ImageRefused("The image has no pixels.")
    if decoded_bytes(img) > MAX_DECODED_BYTES:
        raise ImageRefused(
            f"The image is {w}x{h} pixels ({img.mode}); decoding it would take {decoded_bytes(img) / 2**20:.0f} MB, "
            f"the limit is {MAX_DECODED_BYTES / 2**20:.0f} MB. Scale it down and try again."
        )


def prepare_image(img: Image.Image) -> torch.Tensor:
    """Any PIL image -> float [1, 28, 28] in [0, 1], MNIST-style; ValueError if there is no digit."""
    with decoding():
        if isinstance(img, ImageFile.ImageFile) and img.tile:  # not decoded yet: JPEG can decode small
            img.draft("L", (WORK_SIDE, WORK_SIDE))
        check_size(img)
        grey, extremes = to_grey(img)  # float [H, W], 0 = black, 1 = white, at most WORK_SIDE on a side
    ink = extract_ink(grey, extremes)
    check_strokes(ink)
    glyph = crop_to_ink(ink)
    check_not_a_dot(glyph)
    return centre_in_field(glyph).unsqueeze(0)


def extract_ink(grey: np.ndarray, extremes: Callable[[], Extremes] | None = None) -> np.ndarray:
    """Ink intensity in [0, 1] with the background flattened to zero.

    Polarity comes from the border (paper surrounds the digit). The background is estimated
    by a grey-level opening, wider than any stroke, on a coarse copy: it follows shadows and
    tinted paper but not the thin strokes, and is subtracted. The image is blank when its ink's
    level is below MIN_CONTRAST.
    """
    h, w = grey.shape
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    light_paper = np.median(border) > 0.5
    raw = _flattened(1.0 - grey if light_paper else grey, border, light_paper)
    top = _ink_level(raw)
    if top < MIN_CONTRAST and extremes is not None:
        # A box shrink by k averages a stroke one source pixel wide over k pixels: the shrunk image
        # understates its contrast up to k-fold. Each block's extreme pixel does not, but there a
        # lone speck is as strong as a stroke; a stroke crossing a block covers at least k of its
        # k² pixels, a speck fewer. So each pixel's ink is its block extreme's, capped at k times
        # the shrunk image's (what a stroke at least one pixel wide can have lost), and only ink
        # over a stroke's length (MIN_STROKE_PIXELS) sets the level: a thin stroke keeps its full
        # contrast; specks of dust and smooth shading stay as faint as before. Only pictures that
        # look blank shrunk are re-read this way; all else is judged on the shrunk image, as before.
        ext = extremes()
        inked = 1.0 - ext.darkest if light_paper else ext.lightest
        raw = np.minimum(_flattened(inked, border, light_paper), raw * ext.factor)
        top = _ink_level(raw, MIN_STROKE_PIXELS)
    if top < MIN_CONTRAST:
        raise ImageRefused(
            "No digit found: the image looks blank. Use a dark digit on light paper or a light one on dark, "
            "filling a good part of the picture."
        )
    ink = np.clip(raw / top, 0, 1)
    return np.clip((ink - 0.15) / 0.7, 0, 1)  # drop paper grain and JPEG noise


def _flattened(raw: np.ndarray, border: np.ndarray, light_paper: bool) -> np.ndarray:
    """Ink-polarity grey minus the paper: a fitted background surface, or on tiny images the border's level."""
    if min(raw.shape) >= 16:
        return np.clip(raw - background(raw), 0, None)
    return np.clip(raw - np.median(1.0 - border if light_paper else border), 0, None)  # a uniform image has no ink


def _ink_level(raw: np.ndarray, min_pixels: int = 1) -> float:
    """The ink's level in a flattened image: its 99.5th percentile, or when the ink covers less than
    0.5 % of the picture (a thin stroke on a large page) half the min_pixels-th strongest pixel."""
    top = float(np.percentile(raw, 99.5)) if raw.size > 200 else float(raw.max())
    flat = raw.ravel()
    strongest = (
        float(np.partition(flat, flat.size - min_pixels)[flat.size - min_pixels]) if flat.size > min_pixels else 0.0
    )
    return max(top, strongest * 0.5)


def background(raw: np.ndarray, iterations: int = 4) -> np.ndarray:
    """A smooth quadratic surface fitted to the non-ink pixels (ink is the bright outlier).

    Each pass refits to the pixels at or below the median residual, so strokes never pull the
    surface up, and not far below it (3 robust standard deviations), so a mark darker than the
    paper never pulls it down (that would leave paper brighter than the surface: ghost ink);
    a shadow gradient or a vignette is a low-order surface and is removed whole.
    """
    h, w = raw.shape
    step = max(1, max(h, w) // 64)
    ys, xs = np.mgrid[0:h:step, 0:w:step]
    v = raw[::step, ::step].ravel()
    basis = _quadratic_basis(ys.ravel() / h * 2 - 1, xs.ravel() / w * 2 - 1)
    keep = np.abs(v - np.median(v)) <= 3 * _robust_std(v)  # start from the typical pixels, not all
    for _ in range(iterations):
        keep = keep if keep.sum() >= 2 * basis.shape[1] else np.ones_like(keep)
        coef, *_ = np.linalg.lstsq(basis[keep], v[keep], rcond=None)
        resid = v - basis @ coef
        med = np.median(resid)
        keep = (resid <= med) & (resid >= med - 3 * _robust_std(resid))
    y, x = (np.arange(h) / h * 2 - 1)[:, None], (np.arange(w) / w * 2 - 1)[None, :]
    c = coef  # the same surface as basis @ coef, by broadcasting: no [h*w, 6] matrix
    return c[0] + c[1] * x + c[2] * y + c[3] * x * x + c[4] * x * y + c[5] * y * y


def _robust_std(v: np.ndarray) -> float:
    """Standard deviation from the median absolute deviation, floored at 1% of the grey range."""
    return max(1.4826 * float(np.median(np.abs(v - np.median(v)))), 0.01)


def _quadratic_basis(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1).astype(np.float64)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """Bounding box of the digit, ignoring specks much smaller than its largest stroke."""
    from scipy import ndimage

    labels, n = ndimage.label(ink > 0)
    if n == 0:
        raise ImageRefused("No digit found: the image looks blank.")
    mass = ndimage.sum(ink, labels, index=np.arange(1, n + 1))
    keep = np.isin(labels, 1 + np.flatnonzero(mass >= 0.1 * mass.max()))
    rows, cols = np.flatnonzero(keep.any(1)), np.flatnonzero(keep.any(0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] * keep[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def check_strokes(ink: np.ndarray) -> None:
    """Refuse noise: a pen stroke continues into a neighbouring pixel, so neighbouring ink correlates.

    The lag-1 autocorrelation of the ink is taken along the four directions of the 8-neighbourhood
    (rows, columns and both diagonals) and the best one counts: a thin vertical "1" correlates
    only vertically, a one-pixel stroke at 45 degrees only along its diagonal (the axes see a
    staircase of isolated pixels, about 0). On all 5,000 mnist5k digits at 28x28 it is at least
    0.59 (photos higher); a one-pixel line at any slant at least 0.49; pixel-wise random noise
    about 0 (below 0.08 over thousands of cases). A texture that alternates pixel by pixel (a
    checkerboard: +1 along the diagonals, -1 along the axes; diagonal hatching) is not strokes:
    ink is never anti-correlated with a neighbour (mnist5k's worst direction: +0.14).
    """
    if min(ink.shape) < 2:
        return
    c = ink - ink.mean()
    pairs = ((c[:, :-1], c[:, 1:]), (c[:-1], c[1:]), (c[:-1, :-1], c[1:, 1:]), (c[:-1, 1:], c[1:, :-1]))
    scores = []
    for a, b in pairs:
        den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
        scores.append(float((a * b).sum()) / den if den > 0 else 1.0)
    if max(scores) < MIN_CORRELATION or min(scores) < -MIN_CORRELATION:
        raise ImageRefused("No digit found: the image looks like noise or texture, not pen strokes.")


def check_not_a_dot(glyph: np.ndarray) -> None:
    """Refuse a lone dot or blob: a digit is several stroke widths long, a dot about one.

    The ink's extent along its longest side, in stroke widths (twice the largest distance from
    an ink pixel to the background), is at least 1.64 on all mnist5k digits (a thin "1" is 5 or
    more); a round dot of any size is at most 1.5.
    """
    from scipy import ndimage

    mask = glyph >= 0.5
    if not mask.any():
        mask = glyph > 0
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    length = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    width = 2 * float(ndimage.distance_transform_edt(np.pad(mask, 1)).max())
    if length < MIN_STROKE_WIDTHS * width:
        raise ImageRefused("No digit found: the only ink is a dot or a blob, not the strokes of a digit.")


def centre_in_field(glyph: np.ndarray) -> torch.Tensor:
    """Scale the longest side to 20 px (anti-aliased), then put the centre of mass at (14, 14)."""
    h, w = glyph.shape
    scale = BOX / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    t = torch.from_numpy(np.ascontiguousarray(glyph, dtype=np.float32))[None, None]
    small = F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0].clamp(0, 1)
    ys, xs = torch.meshgrid(torch.arange(size[0]), torch.arange(size[1]), indexing="ij")
    total = small.sum().clamp_min(1e-8)
    cy, cx = float((ys * small).sum() / total), float((xs * small).sum() / total)
    top = int(np.clip(round(SIDE / 2 - cy), 0, SIDE - size[0]))
    left = int(np.clip(round(SIDE / 2 - cx), 0, SIDE - size[1]))
    out = torch.zeros(SIDE, SIDE)
    out[top : top + size[0], left : left + size[1]] = small
    return out / out.max().clamp_min(1e-8)
