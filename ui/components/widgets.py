"""Widgets the pages share: projection picker, digit picker, upload, drawing, input choice."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import streamlit as st

from ui.components import linked
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
    default = default or ("native" if d == 2 else "pca")
    method = linked.segmented(
        st, "Projection", names, key=f"{key}_method", name="proj", default=default, format_func=names.get
    )
    params: dict = {}
    if method == "umap":
        c1, c2 = st.columns(2)
        params["n_neighbors"] = linked.slider(c1, "n_neighbors", 5, 100, 15, key=f"{key}_nn", name="n_neighbors")
        params["min_dist"] = linked.slider(c2, "min_dist", 0.0, 0.99, 0.1, 0.01, key=f"{key}_md", name="min_dist")
    elif method == "tsne":
        params["perplexity"] = float(linked.slider(st, "perplexity", 5, 100, 30, key=f"{key}_perp", name="perplexity"))
    if method == "native" and d > 2:
        st.caption(f"z has {d} dimensions: the native map shows the two with the most KL.")
    return method, tuple(sorted(params.items()))


def digit_picker(data, key: str, label: str, default_class: int = 0, name: str = "digit"):
    """Pick a digit of the dataset by class and index within the class: (dataset index, image [1,1,H,W]).
    Both are part of the view: URL keys `{name}_class` and `{name}_index`."""
    labels = np.asarray(data.labels)
    c1, c2 = st.columns(2)
    c = linked.select(
        c1,
        f"{label}: class",
        range(len(data.classes)),
        key=f"{key}_class",
        name=f"{name}_class",
        default=default_class % len(data.classes),
        format_func=lambda i: data.classes[i],
    )
    members = np.flatnonzero(labels == c)
    top = max(0, len(members) - 1)
    j = linked.number(c2, f"{label}: index in class", 0, top, 0, key=f"{key}_idx", name=f"{name}_index")
    i = int(members[min(int(j), top)])
    return i, data.images[i : i + 1]


@dataclass(frozen=True)
class Input:
    """A digit the user gave: the prepared image (float32 [1, 1, 28, 28]) and a signature of what they gave."""

    x: np.ndarray
    signature: str


def upload_digit(key: str, label: str = "Upload a digit", data_name: str = "") -> Input | None:
    """A file uploader; the prepared digit, or None (errors shown on the page, never raised).

    Streamlit empties an uploader when its page is left; the prepared digit is kept (per
    uploader) until the user removes or replaces the file, so coming back shows it again."""
    kept = f"_kept_{key}"
    up = st.file_uploader(
        label,
        type=UPLOAD_TYPES,
        key=key,
        help=f"Up to {UPLOAD_MB} MB.",
        max_upload_size=UPLOAD_MB,
        on_change=_forget_removed,
        args=(key, kept),
    )
    if up is None:
        if (earlier := st.session_state.get(kept)) is None:
            return None
        name, given = earlier
        c1, c2 = st.columns([4, 1], vertical_alignment="center")
        c1.caption(f"Still using your earlier upload `{name}`; upload another file to replace it.")
        if c2.button("Remove", key=f"{key}_forget"):
            st.session_state.pop(kept, None)
            st.rerun()
        return given
    x, error = prepare_upload(up.getvalue(), data_name)  # a folder's model: prepared like its images
    if error:
        st.error(f"{up.name}: {error}")
        st.session_state.pop(kept, None)
        return None
    given = Input(x, f"upload:{up.file_id}")
    st.session_state[kept] = (re.sub(r"[^\w .()-]", "?", up.name)[:60], given)  # shown as text, never markup
    return given


def _forget_removed(key: str, kept: str) -> None:
    """The user removed the file (the uploader changed to empty): forget the kept digit too."""
    if st.session_state.get(key) is None:
        st.session_state.pop(kept, None)


def drawn_digit(key: str, hint: str = "Draw one digit") -> Input | None:
    """A 280x280 canvas (white ink on black, like MNIST) under a line saying what to draw; the
    prepared drawing, or None.

    The strokes and their prepared digit are kept (per canvas): a canvas mounted again after the
    page was left starts from the strokes it had, and the kept digit stands in until the canvas
    sends its pixels."""
    import json

    try:
        from streamlit_drawable_canvas import st_canvas
    except ImportError:
        st.info("Drawing needs the streamlit-drawable-canvas package (pip install -r requirements.txt).")
        return None
    kept, initial = f"_kept_{key}", f"_initial_{key}"
    if key not in st.session_state:  # (re)mounted: start from the kept strokes, for the whole visit
        st.session_state[initial] = (st.session_state.get(kept) or ([], None))[0]
    stroke = st.slider("Brush", 8, 40, 20, key=f"{key}_brush", width=280, persist_state="session")
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
        initial_drawing={"objects": st.session_state[initial]} if st.session_state.get(initial) else None,
        return_image_data=True,
        key=key,
    )
    objects = (result.json_data or {}).get("objects", []) if result is not None else []
    if not objects:
        st.session_state.pop(kept, None)
        return None
    if result.image_data is None:  # not sent since it was mounted again: the kept drawing, if it is this one
        earlier = st.session_state.get(kept)
        return earlier[1] if earlier and earlier[0] == objects else None
    x, error = prepare_drawing(np.asarray(result.image_data, dtype=np.uint8))
    if error:
        st.info(f"Draw a digit: {error}")
        st.session_state[kept] = (objects, None)
        return None
    given = Input(x, "drawing:" + hashlib.sha1(json.dumps(objects, sort_keys=True).encode()).hexdigest())
    st.session_state[kept] = (objects, given)
    return given


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
    shown = linked.multiselect(
        st, "Classes shown", range(len(classes)), key=key, name="classes", format_func=classes.__getitem__
    )
    return None if len(shown) == len(classes) else [int(c) for c in shown]


def jump_to(n: int, key: str, noun: str = "image") -> int | None:
    """A data index to find: selected and brought into view when the user presses Find."""
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    i = c1.number_input(f"Find {noun} #", 0, n - 1, 0, key=f"{key}_i")
    return int(i) if c2.button("Find", key=f"{key}_go") else None
