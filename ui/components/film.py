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


@st.cache_resource(max_entries=16, show_spinner=False)
def _publish(film_key: str, dataset: str, _codes, epochs: tuple, _history):
    store = map_assets.store()
    frames, axis_labels = frames_2d(_codes)
    images, labels, classes = data.film_arrays(dataset, frames.shape[1])
    points = lm.publish_points(store, frames[-1], labels, classes)
    colors = {name: color for _, name, color in LOSS_SERIES}
    film = lm.publish_film(store, frames, list(epochs), losses(_history, list(epochs)), colors)
    return points, lm.publish_images(store, images), film, axis_labels


def show(film_key: str, dataset: str, codes, epochs: list[int], history: list[dict], key: str, height: int = 420):
    """Draw the film (codes [E, M, D]) on a live map; `film_key` names this film's content."""
    if not settings.live_map():
        st.caption("The training film plays on the live map (turned off here).")
        return None
    points, images, film, axis_labels = _publish(film_key, dataset, np.asarray(codes), tuple(epochs), history)
    return lm.latent_map(
        points, map_assets.store(), key=key, images=images, film=film, axis_labels=axis_labels, height=height
    )
