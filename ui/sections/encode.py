"""The Encode page's sections: example images to try, and the code of one input in charts.

The examples are shipped PNGs (scripts/ship_examples.py: held-out images of each dataset), read
like an upload, so an example goes through exactly what a user's file goes through. Those of the
model's own data come first, then one of another dataset: what the model does with data it never
saw (the page measures it: ui/components/typicality.py).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.components.widgets import Input
from ui.render import code_charts, figures
from ui.services import data
from vae_core.data import catalog

THUMB_PX = 56
FOREIGN = {"mnist5k": "fashion", "mnist": "fashion", "fashion": "mnist5k"}  # which other data an example comes from
FOREIGN_CLASS = {"fashion": 8, "mnist5k": 4}  # the bag, the 4: each far from the other dataset (measured)


def offered(own: str) -> list[data.Example]:
    """The model's own examples, then one of another dataset."""
    found = data.examples()
    mine = [e for e in found if e.dataset == own]
    other = FOREIGN.get(own)
    return mine + [e for e in found if e.dataset == other and e.label == FOREIGN_CLASS.get(other)][:1]


def label(e: data.Example, own: str) -> str:
    if e.dataset == own or catalog.title(e.dataset) == catalog.title(own):
        return f"{catalog.noun(e.dataset)} {e.class_name}" if catalog.noun(e.dataset) == "digit" else e.class_name
    return f"{e.class_name} ({catalog.title(e.dataset)})"


def example_picker(own: str, key: str) -> Input | None:
    """A row of example thumbnails, each with a button; the last one tried, prepared like an upload."""
    shown = offered(own)
    if not shown:
        return None
    st.markdown("**Or try an example** — held-out images, never seen in training:")
    row = st.container(horizontal=True, key=f"{key}_row")
    for i, e in enumerate(shown):
        with row.container(width="content", key=f"{key}_ex{i}"):
            pixels = np.asarray(data.example_pixels(str(e.path)), np.float32) / 255
            st.image(figures.to_pil(pixels, THUMB_PX))
            if st.button(label(e, own), key=f"{key}_try{i}"):
                clicks = st.session_state.get(f"{key}_clicks", 0) + 1
                st.session_state[f"{key}_clicks"] = clicks
                st.session_state[f"{key}_pick"] = (str(e.path), clicks)
    pick = st.session_state.get(f"{key}_pick")
    if pick is None:
        return None
    path, clicks = pick
    x, error = data.prepare_example(path)
    if error:
        st.error(error)
        return None
    return Input(x, f"example:{path}:{clicks}")  # a new click is a new input, even of the same example


def example_name(signature: str, own: str) -> str:
    """What the page calls the input an example signature names."""
    path = signature.split(":", 2)[1]
    for e in data.examples():
        if str(e.path) == path:
            return f"example ({label(e, own)})"
    return "example"


def code_charts_row(mu: np.ndarray, std: np.ndarray, kl: np.ndarray) -> None:
    """μ (± σ) per dimension and, for a code with a σ, the KL per dimension, both in dimension order."""
    c1, c2 = st.columns(2)
    point = not np.isfinite(kl).all()
    c1.plotly_chart(code_charts.code_bars(mu, None if point else std), key="enc_bars")
    if point:
        c2.info(
            "An autoencoder's code is a point, not a distribution: its KL to the prior does not exist "
            "(written — on every page and in the README), so there is nothing to chart."
        )
    else:
        c2.plotly_chart(code_charts.kl_bars(kl), key="enc_kl")
