"""Traverse: the decoded manifold over two latent dimensions, and one slider per dimension."""

import numpy as np
import streamlit as st
import torch

from ui import figures, state
from vae_core import latent
from vae_core.losses import gaussian_kl

ctx = state.current()
entry, model, data_name = ctx.entry, ctx.model, ctx.data_name
data = state.dataset(data_name)
d = model.config.latent_dim
st.title("Traverse")

mean, logvar = state.codes(str(entry.path), entry.mtime, data_name, model)
order = latent.dimension_order(torch.from_numpy(mean), torch.from_numpy(logvar)).tolist()
kl_dim = gaussian_kl(torch.from_numpy(mean), torch.from_numpy(logvar)).mean(0).numpy()  # inf for an AE
names = [f"z{j + 1}" + (f" (KL {kl_dim[j]:.2f})" if np.isfinite(kl_dim[j]) else "") for j in range(d)]

start = st.radio("Start from", ["the origin (z = 0)", "a digit's code"], horizontal=True, key="trav_start")
if start == "a digit's code":
    i, x = state.digit_picker(data, ctx.widget_key("trav"), "Digit", 3)
    base = state.encode(model, x).mean[0].numpy()
else:
    i, base = None, np.zeros(d, np.float32)

grid_tab, slider_tab = st.tabs(["Manifold grid", "Dimension sliders"])
with grid_tab:
    c1, c2, c3 = st.columns(3)
    if d >= 2:
        # Keyed by the model: its dimensions and their KL are not another model's.
        a = c1.selectbox("Rows vary", order, format_func=names.__getitem__, index=0, key=ctx.widget_key("grid_a"))
        rest = [j for j in order if j != a]
        b = c2.selectbox("Columns vary", rest, format_func=names.__getitem__, key=ctx.widget_key(f"grid_b{a}"))
    n = c3.slider("Grid size", 5, 25, 15, key="grid_n")
    c1, c2 = st.columns(2)
    mode = (
        c1.segmented_control(
            "Range",
            ["quantile", "sigma"],
            default="quantile",
            key="grid_mode",
            format_func={"quantile": "prior quantiles", "sigma": "σ units"}.get,
        )
        or "quantile"
    )
    if mode == "quantile":
        span = c2.slider("Quantiles from 1−q to q", 0.80, 0.999, 0.95, 0.005, key="grid_q")
    else:
        span = c2.slider("± σ", 0.5, 5.0, 2.5, 0.25, key="grid_s")
    if d < 2:
        st.info("This model has a single latent dimension; use the sliders.")
    else:
        values = latent.grid_values(n, span, mode)
        z = latent.manifold_grid(torch.from_numpy(base), (a, b), values)
        st.image(
            figures.image_grid(state.decode(model, z), nrow=n, scale=2, padding=1),
            caption=f"{names[a]} from top {values[-1]:.2f} to bottom {values[0]:.2f}; {names[b]} left to right. "
            "For z = 2 this is the whole plane, as in Kingma & Welling's Figure 4.",
        )


@st.fragment
def sliders(base: np.ndarray, order: list[int], key: str):
    """Slider and image in one fragment: moving a slider reruns only this, never the map."""
    left, right = st.columns([3, 2])
    z = base.copy()
    with left:
        cols = st.columns(2)
        for k, j in enumerate(order):
            z[j] = cols[k % 2].slider(names[j], -4.0, 4.0, float(np.clip(base[j], -4, 4)), 0.05, key=f"{key}_{j}")
    image = state.decode(model, z[None])
    st.session_state["traverse_image"] = image.numpy().round(4).tobytes()
    right.image(figures.to_pil(image[0], 280), caption="decoded from the sliders' z")
    if st.button("Reset to start", key=f"{key}_reset"):
        for j in order:
            st.session_state.pop(f"{key}_{j}", None)
        st.rerun(scope="fragment")


with slider_tab:
    st.caption(
        "Dimensions ordered by their KL: the informative ones come first. "
        "Dimensions with KL near 0 are inactive: the decoder ignores them."
    )
    sliders(base, order, key=ctx.widget_key(f"sl_{data_name}_{i}"))
