"""Interpolate: decode the straight (or great-circle) path between two codes."""

import streamlit as st
import torch

from ui import figures, state
from vae_core import latent

entry, model, meta, data_name = state.current()
data = state.dataset(data_name)
st.title("Interpolate")
st.caption(
    "Encode two digits, walk between their posterior means and decode every step. A VAE's path "
    "passes through plausible digits; an autoencoder's often crosses holes."
)


def endpoint(col, key, label, default_class):
    with col:
        source = st.radio(label, ["dataset digit", "upload"], horizontal=True, key=f"{key}_src")
        if source == "upload" and model.config.image_shape == (1, 28, 28):
            x = state.upload_digit(f"{key}_up")
            if x is not None:
                return x
            st.caption("No usable upload yet: using the dataset digit below.")
        return state.digit_picker(data, key, label, default_class)[1]


c1, c2 = st.columns(2)
x0, x1 = endpoint(c1, "ia", "Start", 1), endpoint(c2, "ib", "End", 7)
c1, c2 = st.columns(2)
method = c1.segmented_control("Path", ["linear", "spherical"], default="linear", key="interp_method") or "linear"
steps = c2.slider("Steps", 3, 20, 10, key="interp_steps")

post = state.encode(model, torch.cat([x0, x1]))
z0, z1 = post.mean[0], post.mean[1]
path = (latent.slerp if method == "spherical" else latent.lerp)(z0, z1, steps)
images = state.decode(model, path)
st.image(
    figures.image_grid(images, nrow=steps),
    caption=f"{steps} decoded steps, {method} in z (|z| from {z0.norm():.2f} to {z1.norm():.2f})",
)
st.session_state["interp_images"] = len(images)

d = model.config.latent_dim
map_method, params = state.projection_controls(d, key="interp_map")
mean, logvar, proj = state.map_projection(entry, model, data_name, map_method, params)
fig = figures.latent_scatter(
    proj.embedding, data.labels.numpy(), data.classes, state.hover_text(data_name), proj.axis_labels, height=480
)
figures.add_points(fig, proj.transform(path.numpy()), "path", color="black", symbol="circle", size=7, line=True)
st.plotly_chart(fig, key="interp_chart")
if not proj.exact:
    st.caption(f"{map_method} cannot place new points exactly: the path is drawn at its nearest data codes.")
