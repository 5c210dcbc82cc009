"""One untrusted image file -> a square uint8 picture of a chosen side: the folder's decoding rule.

The rule (documented in the README): the file's first frame (GIF), turned upright by its EXIF
orientation, in 8-bit grey or RGB — palette and CMYK images converted, 16-bit grey scaled by
its range, transparency composited onto white — is centre-cropped to a square (the shorter side,
centred) and resized to side x side with PIL's antialiased bilinear filter (JPEGs are first
decoded at the smallest DCT scale that still covers the side). An image is grey when its three
channels never differ by more than GREY_TOLERANCE levels (a grey JPEG saved as RGB).

The bounds are the uploads' (vae_core.data.images): the decoders we name, the file size, the
pixel count and the decoded memory, checked from the header before decoding. Every refusal is
a short reason ("not an image", "truncated", "too large: ..."), never an exception: a folder's
bad files are skipped and counted. No torch: this runs in decoding worker processes.
"""

from __future__ import annotations

import io
import os
import stat
import warnings

import numpy as np
from PIL import Image, ImageChops, UnidentifiedImageError

from .greyscale import orientation
from .images import FORMATS, MAX_BYTES, ImageRefused, check_size

MIN_SIDE = 8  # pixels: smaller images are skipped as "too small"
GREY_TOLERANCE = 8  # levels (of 255) between channels that still count as grey (JPEG chroma noise)
ALPHA_MODES = ("RGBA", "LA", "La", "RGBa", "PA")


class Refused(Exception):
    """A file we skip; the message is its short reason."""


def decode_file(path: str, side: int) -> tuple[np.ndarray, bool]:
    """(uint8 [side, side, 3], grey?) for the image at `path`; Refused with a short reason otherwise."""
    return decode_bytes(_read(path), side)


def decode_bytes(data: bytes, side: int) -> tuple[np.ndarray, bool]:
    """decode_file for bytes already read (an upload, prepared like the folder's images)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            _check(img)
            img.draft(img.mode, (side, side))  # JPEG: decode at 1/2..1/8 scale when that still covers the side
            _check(img)
            img.load()
            square = _square(_upright_8bit(img), side)
    except Refused:
        raise
    except ImageRefused as e:
        raise Refused(str(e)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused("too large to open safely") from None
    except UnidentifiedImageError:
        raise Refused("not an image") from None
    except MemoryError:
        raise Refused("too large to decode here") from None
    except Exception as e:  # OSError ("image file is truncated"), EOFError, SyntaxError, zlib.error...
        raise Refused("truncated" if "truncat" in str(e).lower() or isinstance(e, EOFError) else "damaged") from None
    arr = np.asarray(square)
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2), True
    return arr, is_grey(square)


def is_grey(rgb: Image.Image) -> bool:
    """No two channels differ by more than GREY_TOLERANCE anywhere (in C: 10x numpy's reduction over 3)."""
    r, g, b = rgb.split()
    return all(ImageChops.difference(u, v).getextrema()[1] <= GREY_TOLERANCE for u, v in ((r, g), (g, b), (r, b)))


def _read(path: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO named like an image must not hang us
    except OSError as e:
        raise Refused(f"unreadable: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused("not a regular file")
        try:
            data = f.read(MAX_BYTES + 1)
        except OSError as e:
            raise Refused(f"unreadable: {e.strerror or e}") from None
    if not data:
        raise Refused("empty")
    if len(data) > MAX_BYTES:
        raise Refused(f"over the {MAX_BYTES / 2**20:.0f} MB limit")
    return data


def _check(img: Image.Image) -> None:
    """The uploads' bomb checks (vae_core.data.images.check_size), with the reason kept short."""
    w, h = img.size
    if min(w, h) < MIN_SIDE:
        raise Refused(f"too small: {w}x{h} pixels, at least {MIN_SIDE}")
    try:
        check_size(img)
    except ImageRefused:
        raise Refused(f"too large: {w}x{h} pixels ({img.mode}), over the decoding limits") from None


def _upright_8bit(img: Image.Image) -> Image.Image:
    """The first frame, upright, as 8-bit "L" or "RGB" (see the module docstring)."""
    turn = orientation(img)
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("1", "PA") or mode not in ("L", "RGB", "I", "I;16", "I;16B", "I;16L", "I;16N", "F", *ALPHA_MODES):
        img = img.convert("RGBA" if mode == "PA" else "L" if mode == "1" else "RGB")  # CMYK, YCbCr, LAB, HSV...
    if img.mode in ALPHA_MODES:
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img.convert("RGBA")).convert("RGB")
    elif img.mode.startswith("I") or img.mode == "F":  # 16/32-bit grey: scaled by its range
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8))
    return img.transpose(turn) if turn is not None else img


def _square(img: Image.Image, side: int) -> Image.Image:
    """Centre crop to the shorter side, resized to side x side (antialiased bilinear)."""
    w, h = img.size
    if w == h == side:
        return img  # already the size: resampling would only blur it
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return img.resize((side, side), Image.Resampling.BILINEAR, box=(left, top, left + s, top + s), reducing_gap=3.0)


def decode_into(task: tuple) -> list[tuple[bool, str]]:
    """A worker's share: decode files [start, start + len(paths)) into the raw memory-mapped array
    [n, side, side, 3] at `raw_path`; per file (grey?, "") or (False, reason) when skipped."""
    start, paths, raw_path, n, side = task
    out = np.memmap(raw_path, dtype=np.uint8, mode="r+", shape=(n, side, side, 3))
    results = []
    for i, path in enumerate(paths):
        try:
            arr, grey = decode_file(path, side)
        except Refused as e:
            results.append((False, str(e) or "damaged"))
            continue
        except Exception as e:  # a failure we did not foresee still skips one file, not the folder
            results.append((False, f"damaged ({type(e).__name__})"))
            continue
        out[start + i] = arr
        results.append((grey, ""))
    out.flush()
    del out
    return results
