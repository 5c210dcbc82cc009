"""Fuzzing uploads: mutated image files decode to a digit or give one ValueError line, never
another exception; things that are not digits (uniform images, a dot, noise) are refused; and
what a person draws or photographs is still accepted. Seeded: a failure names seed and case.
"""

import io
import random

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from vae_core.data import load_dataset
from vae_core.data.preprocess import MAX_DECODED_BYTES, decoded_bytes, load_image, prepare_image

SEED = 0
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # PIL reports each corrupt EXIF block it skips


@pytest.fixture(scope="module")
def digits():
    return load_dataset("mnist5k", "val").images[:50, 0].numpy()


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def seed_files(d: np.ndarray) -> dict[str, bytes]:
    """Valid files of every format and awkward mode we accept, small so that each case is fast."""
    ink = Image.fromarray((255 - d * 255).astype(np.uint8)).resize((40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    rgba = Image.merge("RGBA", [ink, ink, ink, Image.fromarray((d * 255).astype(np.uint8)).resize((40, 40))])
    pal = ink.convert("P")
    frames = [ink.convert("P"), Image.new("P", (40, 40), 255)]
    return {
        "png-L": encode(ink, "PNG"),
        "png-RGBA": encode(rgba, "PNG"),
        "png-P-transparent": encode(pal, "PNG", transparency=0),
        "png-16bit": encode(Image.fromarray(np.asarray(ink, np.uint16) * 257), "PNG"),
        "png-exif": encode(ink, "PNG", exif=exif),
        "png-1bit": encode(ink.convert("1"), "PNG"),
        "jpeg": encode(ink.convert("RGB"), "JPEG", quality=80, exif=exif),
        "jpeg-cmyk": encode(ink.convert("CMYK"), "JPEG"),
        "gif-animated": encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50),
        "bmp": encode(ink.convert("RGB"), "BMP"),
        "webp": encode(ink.convert("RGB"), "WEBP", exif=exif),
        "webp-lossless-rgba": encode(rgba, "WEBP", lossless=True),
    }


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(6)
        at = rng.randrange(len(b)) if b else 0
        if op == 0:  # flip bytes, biased to the header where sizes and modes live
            at = rng.randrange(min(len(b), 64)) if rng.random() < 0.5 and b else at
            for i in range(at, min(len(b), at + rng.randrange(1, 4))):
                b[i] = rng.randrange(256)
        elif op == 1:
            del b[at : at + rng.randrange(1, 32)]
        elif op == 2:
            b[at:at] = rng.randbytes(rng.randrange(1, 32))
        elif op == 3:
            del b[rng.randrange(len(b) + 1) :]
        elif op == 4:  # an interesting integer: sizes 0, 1, 2**15, 2**16 - 1, 2**31 - 1, ...
            word = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])
            b[at : at + 4] = word.to_bytes(4, rng.choice(["big", "little"]))
        else:  # repeat a chunk of the file
            span = bytes(b[at : at + rng.randrange(1, 256)])
            b[rng.randrange(len(b) + 1) : 0] = span * rng.randrange(1, 4)
    return bytes(b)


def check_upload(data: bytes, what: str) -> str:
    try:
        img = load_image(data)
        assert decoded_bytes(img) <= MAX_DECODED_BYTES, what
        x = prepare_image(img)
    except ValueError as e:
        msg = str(e)
        assert msg and "\n" not in msg and len(msg) < 400, f"{what}: {msg!r}"
        return "refused"
    except Exception as e:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{what}: {type(e).__name__}: {e}"[:400])
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32, what
    assert torch.isfinite(x).all() and x.min() >= 0 and x.max() <= 1, what
    return "digit"


def test_mutated_image_files_give_a_digit_or_one_line(digits):
    rng = random.Random(SEED)
    files = seed_files(digits[7])
    for name, data in files.items():
        assert check_upload(data, name) == "digit", f"the unmutated {name} must be accepted"
    outcomes = {"digit": 0, "refused": 0}
    for case in range(3000):
        name = rng.choice(sorted(files))
        outcomes[check_upload(mutate(rng, files[name]), f"seed {SEED}, case {case}, {name}")] += 1
    assert outcomes["digit"] > 100 and outcomes["refused"] > 100, outcomes


# --- Not digits: uniform images, a single dot, noise ------------------------------------------


def uniform(rng: np.random.Generator) -> Image.Image:
    h, w = rng.integers(1, 64, 2) if rng.random() < 0.7 else rng.integers(1, 600, 2)
    if rng.random() < 0.5:
        return Image.fromarray(np.full((h, w), rng.integers(0, 256), np.uint8))
    return Image.new("RGB", (int(w), int(h)), tuple(int(c) for c in rng.integers(0, 256, 3)))


def dot(rng: np.random.Generator) -> Image.Image:
    h, w = (int(s) for s in rng.integers(8, 400, 2))
    paper = int(rng.choice([255, 0, 230, 30]))
    ink = 255 - paper if rng.random() < 0.7 else int(rng.integers(0, 256))
    img = Image.new("L", (w, h), paper)
    r = float(rng.uniform(0.5, max(1.0, min(h, w) / 6)))
    cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
    ImageDraw.Draw(img).ellipse((cx - r, cy - r, cx + r, cy + r), fill=ink)
    if rng.random() < 0.3:  # a soft dot: a photographed or anti-aliased one
        from PIL import ImageFilter

        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 3))))
    return img.convert("RGB") if rng.random() < 0.3 else img


def noise(rng: np.random.Generator) -> Image.Image:
    h, w = (int(s) for s in rng.integers(8, 400, 2))
    kind = rng.integers(3)
    if kind == 0:
        a = rng.normal(rng.uniform(40, 215), rng.uniform(15, 120), (h, w))
    elif kind == 1:
        a = rng.uniform(0, 255, (h, w))
    else:  # salt or pepper on a plain page
        a = np.full((h, w), float(rng.choice([255, 0])))
        hit = rng.random((h, w)) < rng.uniform(0.005, 0.5)
        a[hit] = 255 - a[hit]
    img = Image.fromarray(a.clip(0, 255).astype(np.uint8))
    return img.convert("RGB") if rng.random() < 0.3 else img


@pytest.mark.parametrize("make", [uniform, dot, noise])
def test_things_that_are_not_digits_are_refused(make):
    rng = np.random.default_rng(SEED)
    for case in range(500):
        img = make(rng)
        with pytest.raises(ValueError, match="No digit found") as e:
            prepare_image(img)
            pytest.fail(f"seed {SEED}, case {case}: a {make.__name__} {img.size} {img.mode} was accepted")
        assert "\n" not in str(e.value)


def test_the_issue_examples_are_refused():
    for img in (
        Image.new("L", (10, 10), 128),  # uniform grey under 16 px
        Image.new("RGB", (15, 3), (90, 90, 90)),
        Image.fromarray(np.pad(np.full((1, 1), 255, np.uint8), 13)),  # a single dot, MNIST-sized
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)),  # noise
    ):
        with pytest.raises(ValueError, match="No digit found"):
            prepare_image(img)


# --- Still digits: canvas strokes, renderings of real digits ----------------------------------


def canvas_one(rng: np.random.Generator) -> Image.Image:
    """A "1" as the Draw tab makes it: a white stroke on a 280x280 black canvas, RGB."""
    img = Image.new("RGB", (280, 280), "black")
    brush = int(rng.integers(8, 41))
    length = float(rng.uniform(100, 240))
    slant = float(rng.uniform(-0.3, 0.3))
    x0, y0 = rng.uniform(60, 220), rng.uniform(20, 260 - length)
    ImageDraw.Draw(img).line((x0, y0, x0 + slant * length, y0 + length), fill="white", width=brush, joint="curve")
    return img


def rendering(rng: np.random.Generator, d: np.ndarray) -> Image.Image:
    """A real digit scanned at some size, either polarity, with some sensor noise, maybe as JPEG."""
    scale = int(rng.integers(1, 12))
    ink = d if rng.random() < 0.5 else 1 - d
    img = Image.fromarray((ink * 255).astype(np.uint8)).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    arr = np.asarray(img, np.float32) + rng.normal(0, rng.uniform(0, 6), (28 * scale, 28 * scale))
    img = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        img = load_image(encode(img.convert("RGB"), "JPEG", quality=int(rng.integers(50, 95))))
    return img


def test_drawn_ones_and_real_digits_are_still_accepted(digits):
    rng = np.random.default_rng(SEED)
    for case in range(150):
        x = prepare_image(canvas_one(rng))
        rows, cols = x[0].gt(0.3).any(1).nonzero(), x[0].gt(0.3).any(0).nonzero()
        assert rows.max() - rows.min() >= 15 and cols.max() - cols.min() < 15, f"case {case}: not a tall stroke"
    for case in range(300):
        d = digits[case % len(digits)]
        x = prepare_image(rendering(rng, d))
        assert float(np.corrcoef(x.flatten().numpy(), d.flatten())[0, 1]) > 0.5, f"case {case}"
