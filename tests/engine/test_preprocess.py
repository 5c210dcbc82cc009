"""prepare_image must turn real-world pictures of a digit into the digit MNIST would have made."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vae_core.data import load_dataset
from vae_core.data.preprocess import MAX_PIXELS, load_image, prepare_image


@pytest.fixture(scope="module")
def digits():
    d = load_dataset("mnist5k", "val")
    return d.images[:40, 0]


def corr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(np.corrcoef(a.flatten().numpy(), b.flatten().numpy())[0, 1])


def as_paper(d: torch.Tensor, scale: int = 10) -> Image.Image:
    """The digit as dark ink on white paper, scanned at `scale` times the size."""
    arr = (255 - d.numpy() * 255).astype(np.uint8)
    return Image.fromarray(arr).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)


def centre_of_mass(x: torch.Tensor):
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    return float((x * ys).sum() / x.sum()), float((x * xs).sum() / x.sum())


def check_mnist_like(x: torch.Tensor):
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32
    assert x.min() >= 0 and x.max() == pytest.approx(1.0)
    cy, cx = centre_of_mass(x[0])
    assert abs(cy - 14) < 1.0 and abs(cx - 14) < 1.0
    rows, cols = x[0].gt(0.05).any(1).nonzero(), x[0].gt(0.05).any(0).nonzero()
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 22
    assert x[0, :, :3].max() == 0 and x[0, :3].max() == 0  # a clean border, as in MNIST


VARIANTS = {
    "mnist itself": lambda d: Image.fromarray((d.numpy() * 255).astype(np.uint8)),
    "inverted, large": lambda d: as_paper(d, 20),
    "off-centre on a big page": lambda d: _paste(as_paper(d, 5), (900, 600), (650, 40)),
    "transparent RGBA": lambda d: _rgba(d),
    "coloured ink": lambda d: _coloured(d),
    "shadow gradient photo": lambda d: _shadow(as_paper(d, 10)),
    "jpeg": lambda d: _jpeg(as_paper(d, 8)),
}


def _paste(img, size, at):
    page = Image.new("L", size, 255)
    page.paste(img, at)
    return page


def _rgba(d):
    alpha = (d.numpy() * 255).astype(np.uint8)
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = alpha  # black ink, transparent background
    return Image.fromarray(rgba, "RGBA").resize((112, 112), Image.Resampling.BICUBIC)


def _coloured(d):
    ink = d.numpy()[..., None]
    paper, blue = np.array([250, 245, 230.0]), np.array([20, 40, 200.0])
    img = paper * (1 - ink) + blue * ink
    return Image.fromarray(img.astype(np.uint8), "RGB").resize((280, 280), Image.Resampling.BICUBIC)


def _shadow(img):
    arr = np.asarray(img, np.float32)
    h, w = arr.shape
    light = np.linspace(0.45, 1.0, w)[None, :] * np.linspace(0.75, 1.0, h)[:, None]
    return Image.fromarray((arr * light).clip(0, 255).astype(np.uint8))


def _jpeg(img):
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=70)
    return load_image(buf.getvalue())


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variants_come_back_as_the_same_mnist_digit(digits, variant):
    scores = []
    for d in digits:
        x = prepare_image(VARIANTS[variant](d))
        check_mnist_like(x)
        scores.append(corr(x[0], d))
    assert np.mean(scores) > 0.85, f"{variant}: mean correlation {np.mean(scores):.2f}"
    assert np.percentile(scores, 10) > 0.6


@pytest.mark.parametrize("colour", [0, 255, 128])
def test_blank_pages_are_refused_with_a_human_message(colour):
    with pytest.raises(ValueError, match="No digit found"):
        prepare_image(Image.new("L", (300, 200), colour))


def test_noisy_blank_photo_is_refused():
    rng = np.random.default_rng(0)
    arr = (230 + rng.normal(0, 2, (200, 300))).clip(0, 255).astype(np.uint8)
    with pytest.raises(ValueError, match="No digit found"):
        prepare_image(Image.fromarray(arr))


def test_huge_images_are_refused_before_decoding():
    img = Image.new("L", (1, 1))
    img._size = (20_000, 20_000)  # what a decompression bomb's header claims
    assert 20_000 * 20_000 > MAX_PIXELS
    with pytest.raises(ValueError, match="too large"):
        prepare_image(img)
