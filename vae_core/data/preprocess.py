"""Uploaded or drawn images -> MNIST-style digits: [1, 28, 28] floats in [0, 1], ink = 1.

MNIST digits were made by size-normalising each digit to fit a 20x20 box (aspect kept,
anti-aliased) and centring it in 28x28 by its centre of mass (LeCun et al., the MNIST page).
A model trained on them only understands inputs made the same way, so a photo goes through:
alpha onto white -> grey -> polarity (MNIST is light ink on black) -> flatten the background
(shadows, paper tint) -> crop to the ink -> 20 px longest side -> centre of mass at (14, 14).
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFile

from .images import (  # the bounds and the guard of every untrusted image, also re-exported here
    FORMAT_COPIES,
    FORMATS,
    MAX_BYTES,
    MAX_DECODED_BYTES,
    MAX_PIXELS,
    MODE_BYTES,
    ORIENTATION,
    ImageRefused,
    check_size,
    decoded_bytes,
    decoding,
    orientation,
)

__all__ = [
    "FORMATS",
    "FORMAT_COPIES",
    "MAX_BYTES",
    "MAX_DECODED_BYTES",
    "MAX_PIXELS",
    "MODE_BYTES",
    "ORIENTATION",
    "ImageRefused",
    "check_size",
    "decoded_bytes",
    "decoding",
    "load_image",
    "orientation",
    "prepare_image",
]

WORK_SIDE = 256  # images are shrunk to this, in their own mode, before any conversion or per-pixel work
MIN_CONTRAST = 0.08  # ink weaker than this (on a 0..1 scale) is noise, not a digit
BOX, SIDE = 20, 28  # MNIST: digit fitted into 20x20, placed in 28x28
MIN_CORRELATION = 0.25  # neighbouring ink pixels correlate at least this much in strokes (check_strokes)
MIN_STROKE_WIDTHS = 1.6  # a digit's longest side is at least this many stroke widths (check_not_a_dot)


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


def prepare_image(img: Image.Image) -> torch.Tensor:
    """Any PIL image -> float [1, 28, 28] in [0, 1], MNIST-style; ValueError if there is no digit."""
    with decoding():
        if isinstance(img, ImageFile.ImageFile) and img.tile:  # not decoded yet: JPEG can decode small
            img.draft("L", (WORK_SIDE, WORK_SIDE))
        check_size(img)
        grey = to_grey(img)  # float [H, W], 0 = black, 1 = white, at most WORK_SIDE on a side
    ink = extract_ink(grey)
    check_strokes(ink)
    glyph = crop_to_ink(ink)
    check_not_a_dot(glyph)
    return centre_in_field(glyph).unsqueeze(0)


def to_grey(img: Image.Image) -> np.ndarray:
    """First frame, shrunk in its own mode, transparency onto white, upright -> grey floats in [0, 1].

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
    img = shrink(img)
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img.convert("RGBA"))
    if img.mode.startswith("I") or img.mode == "F":  # 16/32-bit greyscale: scale by its range
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8))
    img = img.convert("L")
    if turn is not None:
        img = img.transpose(turn)
    return np.asarray(img, dtype=np.float32) / 255.0


def shrink(img: Image.Image) -> Image.Image:
    """Longest side down to WORK_SIDE by box averaging (the mean of each block, as thumbnail does)."""
    w, h = img.size
    if max(w, h) <= WORK_SIDE:
        return img
    scale = WORK_SIDE / max(w, h)
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)


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


def extract_ink(grey: np.ndarray) -> np.ndarray:
    """Ink intensity in [0, 1] with the background flattened to zero.

    Polarity comes from the border (paper surrounds the digit). The background is estimated
    by a grey-level opening, wider than any stroke, on a coarse copy: it follows shadows and
    tinted paper but not the thin strokes, and is subtracted.
    """
    h, w = grey.shape
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    raw = 1.0 - grey if np.median(border) > 0.5 else grey
    if min(h, w) >= 16:
        raw = raw - background(raw)
    else:  # too small to fit a surface: the border's level is the paper (a uniform image has no ink)
        raw = raw - np.median(1.0 - border if np.median(border) > 0.5 else border)
    raw = np.clip(raw, 0, None)
    top = float(np.percentile(raw, 99.5)) if raw.size > 200 else float(raw.max())
    top = max(top, float(raw.max()) * 0.5)
    if top < MIN_CONTRAST:
        raise ImageRefused(
            "No digit found: the image looks blank. Use a dark digit on light paper or a light one on dark, "
            "filling a good part of the picture."
        )
    ink = np.clip(raw / top, 0, 1)
    return np.clip((ink - 0.15) / 0.7, 0, 1)  # drop paper grain and JPEG noise


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
    """Refuse noise: pen strokes are wider than a pixel, so neighbouring ink values correlate.

    The lag-1 autocorrelation of the ink, in the better of the two directions (a thin vertical
    "1" correlates only vertically), is at least 0.52 on all 5,000 mnist5k digits at 28x28 and
    higher on photos; pixel-wise random noise gives about 0 (below 0.08 over thousands of cases).
    """
    if min(ink.shape) < 2:
        return
    centred = ink - ink.mean()
    scores = []
    for a, b in ((centred[:, :-1], centred[:, 1:]), (centred[:-1], centred[1:])):
        den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
        scores.append(float((a * b).sum()) / den if den > 0 else 1.0)
    if max(scores) < MIN_CORRELATION:
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
