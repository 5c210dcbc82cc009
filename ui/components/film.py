"""The training film on a live map: how the latent codes of fixed validation images (up to 500) moved,
epoch after epoch. A scrubber and a play button in the map replay it in the browser; the loss
curves beside it mark the epoch shown. Native axes for z = 2; otherwise a PCA fitted once on
the final frame, so the axes stay put while the codes move (Train page and Latent map)."""

from __future__ import annotations

import numpy as np
import streamlit as st

import ui.livemap as lm
from ui import settings
from ui.render.figures import LOSS_SERIES
from ui.services import data, map_assets


def frames_2d(codes: np.ndarray) -> tuple[np.ndarray, tuple[str, str]]:
    """[E, M, D] codes -> [E, M, 2] map positions and axis labels."""
    codes = np.asarray(codes, np.float32)
    if codes.shape[2] == 1:
        return np.concatenate([codes, np.zeros_like(codes)], 2), ("z1", "")
    if codes.shape[2] == 2:
        return codes, ("z1", "z2")
    last = codes[-1]
    center = last.mean(0)
    _, s, vt = np.linalg.svd(last - center, full_matrices=False)
    share = s[:2] ** 2 / max(float((s**2).sum()), 1e-12) * 100
    return (codes - center) @ vt[:2].T, (f"PC1 of the final codes ({share[0]:.0f}%)", f"PC2 ({share[1]:.0f}%)")


def losses(history: list[dict], epochs: list[int]) -> dict[str, list]:
    """The validation loss series at the film's epochs (epoch 0, before training, has none),
    named as on the loss chart (figures.LOSS_SERIES)."""
    by_epoch = {h["epoch"]: h for h in history}
    out = {}
    for key, label, _ in LOSS_SERIES:
        ys = [by_epoch.get(e, {}).get(key) for e in epochs]
        if any(y is not None and np.isfinite(y) for y in ys):
            out[label] = ys
    return out


GIF_PX = 360  # a frame's side
GIF_MS = 150  # per epoch; the last frame is held 10x longer before the loop starts again


def gif(codes: np.ndarray, epochs: list[int], labels: np.ndarray) -> bytes:
    """The film as an animated GIF: each epoch's codes as dots coloured by class, on the axes of
    the whole film (the scrubber's), the epoch written in a corner."""
    import io

    from PIL import Image, ImageDraw

    from ui.render.figures import PALETTE

    frames, _ = frames_2d(codes)
    lo, hi = np.percentile(frames.reshape(-1, 2), [0.5, 99.5], axis=0)  # a stray code must not shrink the rest
    pad = 0.05 * np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad, hi + pad
    palette = [255, 255, 255, 0, 0, 0]  # 0: paper, 1: ink, then the classes' colours (exact: a paletted image)
    for c in PALETTE:
        palette += [int(c[i : i + 2], 16) for i in (1, 3, 5)]
    pics = []
    for frame, epoch in zip(frames, epochs, strict=True):
        pic = Image.new("P", (GIF_PX, GIF_PX), 0)
        pic.putpalette(palette)
        draw = ImageDraw.Draw(pic)
        xy = (frame - lo) / (hi - lo) * (GIF_PX - 1)
        for (x, y), label in zip(xy, labels, strict=True):
            if 0 <= x < GIF_PX and 0 <= y < GIF_PX:
                y = GIF_PX - 1 - y  # up is up
                draw.rectangle((x - 1, y - 1, x + 1, y + 1), fill=2 + int(label) % len(PALETTE))
        draw.text((6, 4), f"epoch {epoch}", fill=1)
        pics.append(pic)
    durations = [GIF_MS] * (len(pics) - 1) + [GIF_MS * 10]
    buf = io.BytesIO()
    pics[0].save(buf, "GIF", save_all=True, append_images=pics[1:], duration=durations, loop=0)
    return buf.getvalue()


@st.cache_resource(max_entries=16, show_spinner=False)
def _publish(film_key: str, dataset: str, _codes, epochs: tuple, _history):
    store = map_assets.store()
    frames, axis_labels = frames_2d(_codes)
    images, labels, classes = data.film_arrays(dataset, frames.shape[1])
    points = lm.publish_points(store, frames[-1], labels, classes)
    colors = {name: color for _, name, color in LOSS_SERIES}
    film = lm.publish_film(store, frames, list(epochs), losses(_history, list(epochs)), colors)
    return points, lm.publish_images(store, images), film, axis_labels


def show(
    film_key: str,
    dataset: str,
    codes,
    epochs: list[int],
    history: list[dict],
    key: str,
    height: int = 420,
    name: str = "training",
    download: str = "deferred",
):
    """Draw the film (codes [E, M, D]) on a live map, with a GIF to download (NAME-film.gif);
    `film_key` names this film's content. download: "deferred" (built when clicked), "cached"
    (built once per film_key: for a page that redraws itself) or "later" (a film still growing)."""
    codes = np.asarray(codes)
    event = None
    if settings.live_map():
        points, images, film, axis_labels = _publish(film_key, dataset, codes, tuple(epochs), history)
        lm.keep_serving(images, data.film_arrays(dataset, codes.shape[1])[0])
        event = lm.latent_map(
            points, map_assets.store(), key=key, images=images, film=film, axis_labels=axis_labels, height=height
        )
    else:
        st.caption("The training film plays on the live map (turned off here); the GIF below has every frame.")
    if download == "later":
        st.caption("The film can be downloaded as a GIF once training has ended.")
        return event
    labels = data.film_arrays(dataset, codes.shape[1])[1]
    st.download_button(
        "Download the film (GIF)",
        # Built when clicked; in a fragment that redraws every second the click would find that
        # deferred build gone, so there the bytes are made once per film (film_key) and sent.
        _gif(film_key, codes, tuple(epochs), labels) if download == "cached" else lambda: gif(codes, epochs, labels),
        f"{name}-film.gif",
        "image/gif",
        key=f"{key}_gif",
        on_click="ignore",
    )
    return event


@st.cache_data(max_entries=8, show_spinner=False)
def _gif(film_key: str, _codes, epochs: tuple, _labels) -> bytes:
    return gif(_codes, list(epochs), _labels)
