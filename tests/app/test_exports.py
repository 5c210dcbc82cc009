"""What a user downloads reads back as what the page showed."""

import csv
import io

import numpy as np
import torch
from PIL import Image

from ui.render import exports


def table():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(20, 3)).astype(np.float32)
    logvar = rng.normal(size=(20, 3)).astype(np.float32)
    xy = rng.normal(size=(20, 2)).astype(np.float32)
    labels = rng.integers(0, 4, size=20)
    return mean, logvar, xy, labels


def test_csv_rows_are_the_chosen_indices_with_their_codes():
    mean, logvar, xy, labels = table()
    pick = [3, 7, 11]
    cols = exports.code_table(pick, mean, logvar, xy, labels, ["a", "b", "c", "d"], ("z1", "z2"))
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(cols).decode())))
    assert [int(r["index"]) for r in rows] == pick
    for r, i in zip(rows, pick, strict=True):
        assert r["class"] == "abcd"[labels[i]] and int(r["label"]) == labels[i]
        assert abs(float(r["map_z1"]) - xy[i, 0]) < 1e-5
        assert abs(float(r["mu_2"]) - mean[i, 1]) < 1e-5
        assert abs(float(r["sigma_3"]) - np.exp(0.5 * logvar[i, 2])) < 1e-5


def test_npz_holds_the_same_codes_and_no_pickle():
    mean, logvar, xy, labels = table()
    cols = exports.code_table(range(20), mean, np.full_like(logvar, -np.inf), xy, labels, list("abcd"))
    with np.load(io.BytesIO(exports.to_npz(cols)), allow_pickle=False) as f:
        np.testing.assert_allclose(f["mu"], mean)
        assert (f["sigma"] == 0).all()  # an autoencoder's point codes
        assert f["index"].tolist() == list(range(20)) and f["class"].dtype.kind == "U"


def test_gif_has_a_frame_per_step_there_and_back_and_the_strip_is_a_png():
    imgs = torch.linspace(0, 1, 5)[:, None, None, None].expand(5, 1, 4, 4).contiguous()
    gif = Image.open(io.BytesIO(exports.gif(imgs, scale=2)))
    assert gif.n_frames == 5 + 3 and gif.size == (8, 8)
    gif.seek(4)
    assert np.asarray(gif.convert("L")).mean() > 200  # the brightest step is the turning point
    strip = Image.open(io.BytesIO(exports.png_strip(imgs, nrow=5, scale=1)))
    assert strip.format == "PNG" and strip.width > strip.height
