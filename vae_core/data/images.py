"""Opening untrusted image files: the bounds (their one home) and the guard around PIL.

Uploads (vae_core.data.preprocess) and image folders (vae_core.data.folder) obey the same rules:
only the decoders we name (PIL would also try EPS, through Ghostscript), a file size cap, and a
decompression-bomb check of the pixel count and of the memory the decoded image will take, from
its header, before anything is decoded. Whatever a damaged file makes PIL raise becomes one
ImageRefused line. No torch here: folder decoding runs in worker processes that need only PIL.
"""

from __future__ import annotations

import contextlib
import warnings

from PIL import Image, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # decoders we allow: PIL would also try EPS (Ghostscript!), etc.
MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (decompression bombs)
MAX_BYTES = 10 * 1024 * 1024  # uploads larger than this are refused unread
MAX_DECODED_BYTES = 100 * 2**20  # memory a decoded image may take (see decoded_bytes), checked before decoding
# Bytes per pixel a decoded image of each mode costs us: PIL's storage (1, 2 or 4 bytes) plus the
# one full-size copy made before shrinking (palette -> grey, bilevel -> grey, palette+alpha -> RGBA).
MODE_BYTES = {"1": 2, "L": 1, "P": 2, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "PA": 8}
FORMAT_COPIES = {"WEBP": 3}  # libwebp decodes into its own buffers, then PIL copies: ~3 images at once


class ImageRefused(ValueError):
    """An upload we will not use; the message is the one line shown to the user."""


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
