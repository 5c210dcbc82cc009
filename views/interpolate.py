"""Interpolate: decode the straight (or great-circle) path between two codes."""

import streamlit as st
import torch

import ui.livemap as lm
from ui.components import linked, maps, panels, typicality, widgets
from ui.frame import context, probe
from ui.render import figures
from ui.services import data, latents
from vae_core.analysis import latent
from vae_core.data import catalog

ctx = context.current()
entry, model, data_name = ctx.entry, ctx.model, ctx.data_name
dataset = data.dataset(data_name)
st.title("Interpolate")
noun = catalog.noun(data_name)
st.caption(
    f"Encode two {noun}s, walk between their posterior means and decode every step. A VAE's path "
    f"passes through plausible {noun}s; an autoencoder's often crosses regions its decoder never saw."
)


def endpoint(col, key, label, default_class, name):
    """One end of the path, from the dataset or an upload: (image [1,1,H,W], what it is)."""
    with col:
        source = linked.radio(
            st,
            label,
            ["dataset digit", "upload"],
            key=f"{key}_src",
            name=f"{name}_from",
            format_func=lambda o: o.replace("digit", noun),
        )
        folder = data_name.startswith(catalog.FOLDER_PREFIX)  # prepared like the folder's images, any form
        if source == "upload" and (folder or ctx.config.image_shape == (1, 28, 28)):
            up = widgets.upload_digit(f"{key}_up", catalog.upload_hint(data_name), data_name if folder else "")
            if up is not None:
                return up.x, "your upload"
            st.caption(f"No usable upload yet: using the dataset {noun} below.")
        i, x = widgets.digit_picker(dataset, ctx.widget_key(key), label, default_class, name=name)
        return x, f"#{i} · class {dataset.classes[int(dataset.labels[i])]}"


typicality.data_note(ctx)
c1, c2 = st.columns(2)
(x0, what0), (x1, what1) = endpoint(c1, "ia", "Start", 1, "start"), endpoint(c2, "ib", "End", 7, "end")
c1, c2 = st.columns(2)
method = linked.segmented(c1, "Path", ["linear", "spherical"], key="interp_method", name="path", default="linear")
steps = linked.slider(c2, "Steps", 3, 20, 10, key="interp_steps", name="steps")

post = latents.encode(model, torch.cat([torch.as_tensor(x0), torch.as_tensor(x1)]))
z0, z1 = post.mean[0], post.mean[1]
path = (latent.slerp if method == "spherical" else latent.lerp)(z0, z1, steps)
images = latents.decode(model, path)

left, mid, right = st.columns([1, 6, 1])
left.image(figures.to_pil(x0[0], 112), caption=f"start: {what0}")
right.image(figures.to_pil(x1[0], 112), caption=f"end: {what1}")
per_row = min(steps, 10)  # wrap long paths so every step stays large enough to read
mid.image(
    figures.image_grid(images, nrow=per_row, scale=4),
    caption=f"{steps} decoded steps, {method} in z, left to right (|z| from {z0.norm():.2f} to {z1.norm():.2f})",
    width="stretch",
)
probe.record(interp_images=len(images), interp_channels=int(images.shape[1]))

panels.image_downloads(images, steps, f"{entry.stem}-interpolation-{steps}", key="interp")

d = ctx.config.latent_dim
map_method, params = widgets.projection_controls(d, key=ctx.widget_key("interp_map"))
mean, logvar, proj = latents.map_projection(ctx.ref, map_method, params)
path_xy = proj.transform(path.numpy())
path_line = lm.Polyline(path_xy, name=f"{method} path")
maps.draw(ctx, proj, key=ctx.widget_key("interp_chart"), overlays=[path_line], height=480)
if not proj.exact:
    st.caption(f"{map_method} cannot place new points exactly: the path is drawn at its nearest data codes.")
