"""The training film as a GIF: a frame per epoch, on the whole film's axes, held at the end."""

import io

import numpy as np
from PIL import Image

from ui.components.film import GIF_MS, GIF_PX, gif
from ui.render.figures import PALETTE


def test_the_film_gif_has_a_frame_per_epoch_that_shows_where_the_codes_went():
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 10
    start = rng.normal(0, 0.02, (60, 2))
    end = np.c_[np.cos(labels), np.sin(labels)] * 3  # classes move apart, each to its own place
    codes = np.stack([start + (end - start) * t for t in np.linspace(0, 1, 5)]).astype(np.float32)
    data = gif(codes, [0, 1, 2, 3, 4], labels)
    pic = Image.open(io.BytesIO(data))
    assert pic.format == "GIF" and pic.n_frames == 5 and pic.size == (GIF_PX, GIF_PX)
    spread, durations = [], []
    for k in range(pic.n_frames):
        pic.seek(k)
        rgb = np.asarray(pic.convert("RGB")).astype(int)
        centres = [c for colour in PALETTE[:10] if (c := centre(rgb, colour)) is not None]  # each class's dots
        assert len(centres) >= 3, k  # dots drawn on top of each other hide some classes at epoch 0
        spread.append(max(np.linalg.norm(a - b) for a in centres for b in centres))
        durations.append(pic.info["duration"])
    assert spread[0] < GIF_PX / 10 < GIF_PX / 2 < spread[-1]  # together at epoch 0, classes apart at the end
    assert spread == sorted(spread)
    assert durations[0] == GIF_MS and durations[-1] == 10 * GIF_MS


def centre(rgb: np.ndarray, colour: str) -> np.ndarray | None:
    want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    ys, xs = np.nonzero((rgb == want).all(2))  # the GIF's palette holds the classes' colours exactly
    return np.array([xs.mean(), ys.mean()]) if len(xs) else None


def test_a_film_of_one_latent_dimension_and_of_many_is_drawn_too():
    labels = np.zeros(20, int)
    for d in (1, 16):
        codes = np.random.default_rng(d).normal(size=(3, 20, d)).astype(np.float32)
        assert Image.open(io.BytesIO(gif(codes, [0, 5, 10], labels))).n_frames == 3
