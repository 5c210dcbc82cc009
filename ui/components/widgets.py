"""Widgets the pages share: projection picker, digit picker, upload, drawing, input choice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from ui.frame import url
from ui.services.data import prepare_drawing, prepare_upload
from ui.settings import UPLOAD_MB, UPLOAD_TYPES

CARD_PX = 300  # a card (one model's map, one sampler's images): three side by side at 1400 px, one per row at 800


def cards(key: str):
    """A row of cards that wraps: side by side where they fit, one under another where not (a
    third of a narrow page would squash a map into a strip). Open each with .container(width=CARD_PX)."""
    return st.container(horizontal=True, key=key)


def projection_controls(d: int, key: str, default: str | None = None) -> tuple[str, tuple]:
    """The projection picker and its parameters: (method, params as a hashable tuple)."""
    names = {"native": "native (z)", "pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
    options = list(names)
    url.restore_projection(key)
    method = st.segmented_control(
        "Projection",
        options,
        format_func=names.get,
        key=f"{key}_method",
        default=default or ("native" if d == 2 else "pca"),
    )
    method = method or "pca"
    params: dict = {}
    if method == "umap":
        c1, c2 = st.columns(2)
        params["n_neighbors"] = c1.slider("n_neighbors", 5, 100, 15, key=f"{key}_nn")
        params["min_dist"] = c2.slider("min_dist", 0.0, 0.99, 0.1, 0.01, key=f"{key}_md")
    elif method == "tsne":
        params["perplexity"] = float(st.slider("perplexity", 5, 100, 30, key=f"{key}_perp"))
    if method == "native" and d > 2:
        st.caption(f"z has {d} dimensions: the native map shows the two with the most KL.")
    url.put(proj=method, **params)
    return method, tuple(sorted(params.items()))


def digit_picker(data, key: str, label: str, default_class: int = 0):
    """Pick a digit of the dataset by class and index within the class: (dataset index, image [1,1,H,W])."""
    labels = np.asarray(data.labels)
    c1, c2 = st.columns(2)
    c = c1.selectbox(
        f"{label}: class",
        range(len(data.classes)),
        index=default_class % len(data.classes),
        format_func=lambda i: data.classes[i],
        key=f"{key}_class",
    )
    members = np.flatnonzero(labels == c)
    j = c2.number_input(f"{label}: index in class", 0, max(0, len(members) - 1), 0, key=f"{key}_idx")
    i = int(members[int(j)])
    return i, data.images[i : i + 1]


@dataclass(frozen=True)
class Input:
    """A digit the user gave: the prepared image (float32 [1, 1, 28, 28]) and a signature of what they gave."""

    x: np.ndarray
    signature: str


def upload_digit(key: str, label: str = "Upload a digit") -> Input | None:
    """A file uploader; the prepared digit, or None (errors shown on the page, never raised)."""
    up = st.file_uploader(label, type=UPLOAD_TYPES, key=key, help=f"Up to {UPLOAD_MB} MB.", max_upload_size=UPLOAD_MB)
    if up is None:
        return None
    x, error = prepare_upload(up.getvalue())
    if error:
        st.error(f"{up.name}: {error}")
        return None
    return Input(x, f"upload:{up.file_id}")


def drawn_digit(key: str, hint: str = "Draw one digit") -> Input | None:
    """A 280x280 canvas (white ink on black, like MNIST) under a line saying what to draw; the
    prepared drawing, or None."""
    import json

    try:
        from streamlit_drawable_canvas import st_canvas
    except ImportError:
        st.info("Drawing needs the streamlit-drawable-canvas package (pip install -r requirements.txt).")
        return None
    stroke = st.slider("Brush", 8, 40, 20, key=f"{key}_brush", width=280)
    st.caption(f"{hint} with the mouse (or a finger): white on black, large and centred. Undo, redo and clear "
               "appear at the canvas's top right when the pointer is over it.")  # fmt: skip
    st.space(36)  # room for that toolbar, which opens above the canvas: it must not cover the slider
    result = st_canvas(
        stroke_width=stroke,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=280,
        width=280,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    objects = (result.json_data or {}).get("objects", []) if result is not None else []
    if not objects or result.image_data is None:
        return None
    x, error = prepare_drawing(np.asarray(result.image_data, dtype=np.uint8))
    if error:
        st.info(f"Draw a digit: {error}")
        return None
    return Input(x, "drawing:" + hashlib.sha1(json.dumps(objects, sort_keys=True).encode()).hexdigest())


def latest_input(key: str, inputs: dict[str, Input | None]) -> str | None:
    """Which of several inputs to use: the one that changed most recently (a new upload, a new
    stroke); if that one is removed, the newest of the others still there."""
    seen = st.session_state.setdefault(f"{key}_seen", {})  # name -> signature on the last run
    order = st.session_state.setdefault(f"{key}_order", [])  # names, oldest change first
    for name, given in inputs.items():
        sig = given.signature if given else None
        if sig != seen.get(name):
            seen[name] = sig
            if name in order:
                order.remove(name)
            order.append(name)
    present = [name for name in order if inputs.get(name) is not None]
    return present[-1] if present else None


def class_filter(classes, key: str) -> list[int] | None:
    """Which classes the map draws in colour (the others are dimmed): their indices, or None for all."""
    shown = st.multiselect(
        "Classes shown",
        list(range(len(classes))),
        default=list(range(len(classes))),
        format_func=classes.__getitem__,
        key=key,
    )
    return None if len(shown) == len(classes) else [int(c) for c in shown]


def jump_to(n: int, key: str, noun: str = "image") -> int | None:
    """A data index to find: selected and brought into view when the user presses Find."""
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    i = c1.number_input(f"Find {noun} #", 0, n - 1, 0, key=f"{key}_i")
    return int(i) if c2.button("Find", key=f"{key}_go") else None
