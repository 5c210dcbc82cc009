"""Uploaded or drawn images -> MNIST-style digits: [1, 28, 28] floats in [0, 1], ink = 1.

MNIST digits were made by size-normalising each digit to fit a 20x20 box (aspect kept,
anti-aliased) and centring it in 28x28 by its centre of mass (LeCun et al., the MNIST page).
A model trained on them only understands inputs made the same way, so a photo goes through:
alpha onto white -> grey -> polarity (MNIST is light ink on black) -> flatten the background
(shadows, paper tint) -> crop to the ink -> 20 px longest side -> centre of mass at (14, 14).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # decoders we allow: PIL would also try EPS (Ghostscript!), etc.
MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (decompression bombs)
MAX_BYTES = 10 * 1024 * 1024  # uploads larger than this are refused unread
WORK_SIDE = 256  # images are downscaled to this before any per-pixel work
MIN_CONTRAST = 0.08  # ink weaker than this (on a 0..1 scale) is noise, not a digit
BOX, SIDE = 20, 28  # MNIST: digit fitted into 20x20, placed in 28x28


def load_image(data: bytes, max_bytes: int = MAX_BYTES) -> Image.Image:
    """Decode uploaded bytes safely: size caps first, then PIL; ValueError with a human message."""
    if len(data) == 0:
        raise ValueError("The file is empty.")
    if len(data) > max_bytes:
        raise ValueError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)  # by content, whatever the file is called
            check_size(img)
            img.draft("L", (WORK_SIDE, WORK_SIDE))  # JPEG: decode at reduced size, much faster
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError(
            f"The image is too large to open safely (more than {MAX_PIXELS // 10**6} megapixels)."
        ) from None
    except UnidentifiedImageError:
        raise ValueError("This file is not an image we can read (try PNG, JPEG, GIF, BMP or WebP).") from None
    except (OSError, SyntaxError, EOFError) as e:
        raise ValueError(f"The image file is damaged or truncated ({e}).") from None
    return img


def check_size(img: Image.Image) -> None:
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ValueError(f"The image is {w}x{h} pixels, too large to open safely (limit {MAX_PIXELS // 10**6} MP).")
    if w < 1 or h < 1:
        raise ValueError("The image has no pixels.")


def prepare_image(img: Image.Image) -> torch.Tensor:
    """Any PIL image -> float [1, 28, 28] in [0, 1], MNIST-style; ValueError if there is no digit."""
    check_size(img)
    grey = to_grey(img)  # float [H, W], 0 = black, 1 = white
    ink = extract_ink(grey)
    glyph = crop_to_ink(ink)
    return centre_in_field(glyph).unsqueeze(0)


def to_grey(img: Image.Image) -> np.ndarray:
    """First frame, upright, transparency onto white, any mode -> grey floats in [0, 1]."""
    if getattr(img, "is_animated", False):
        img.seek(0)
    img = ImageOps.exif_transpose(img)  # phone photos store their rotation in EXIF
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img.convert("RGBA"))
    if img.mode.startswith("I") or img.mode == "F":  # 16/32-bit greyscale: scale by its range
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8))
    img = img.convert("L")
    if max(img.size) > WORK_SIDE:
        img.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.float32) / 255.0


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
    raw = np.clip(raw, 0, None)
    top = float(np.percentile(raw, 99.5)) if raw.size > 200 else float(raw.max())
    top = max(top, float(raw.max()) * 0.5)
    if top < MIN_CONTRAST:
        raise ValueError(
            "No digit found: the image looks blank. Use a dark digit on light paper or a light one on dark, "
            "filling a good part of the picture."
        )
    ink = np.clip(raw / top, 0, 1)
    return np.clip((ink - 0.15) / 0.7, 0, 1)  # drop paper grain and JPEG noise


def background(raw: np.ndarray, iterations: int = 4) -> np.ndarray:
    """A smooth quadratic surface fitted to the non-ink pixels (ink is the bright outlier).

    Each pass refits to the pixels at or below the median residual, so strokes never pull the
    surface up; a shadow gradient or a vignette is a low-order surface and is removed whole.
    """
    h, w = raw.shape
    step = max(1, max(h, w) // 64)
    ys, xs = np.mgrid[0:h:step, 0:w:step]
    v = raw[::step, ::step].ravel()
    basis = _quadratic_basis(ys.ravel() / h * 2 - 1, xs.ravel() / w * 2 - 1)
    keep = np.ones(v.shape, bool)
    for _ in range(iterations):
        coef, *_ = np.linalg.lstsq(basis[keep], v[keep], rcond=None)
        resid = v - basis @ coef
        keep = resid <= np.median(resid)
    fy, fx = np.mgrid[0:h, 0:w]
    return (_quadratic_basis(fy.ravel() / h * 2 - 1, fx.ravel() / w * 2 - 1) @ coef).reshape(h, w)


def _quadratic_basis(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1).astype(np.float64)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """Bounding box of the digit, ignoring specks much smaller than its largest stroke."""
    from scipy import ndimage

    labels, n = ndimage.label(ink > 0)
    if n == 0:
        raise ValueError("No digit found: the image looks blank.")
    mass = ndimage.sum(ink, labels, index=np.arange(1, n + 1))
    keep = np.isin(labels, 1 + np.flatnonzero(mass >= 0.1 * mass.max()))
    rows, cols = np.flatnonzero(keep.any(1)), np.flatnonzero(keep.any(0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] * keep[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


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
