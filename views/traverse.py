"""Traverse: the decoded manifold over two latent dimensions, one slider per dimension, and
directions in z that change an image's shape or class."""

import numpy as np
import streamlit as st
import torch

from ui.components import linked, widgets
from ui.frame import context
from ui.sections import traverse as section
from ui.services import data, latents, measures, subsample
from vae_core.analysis import latent
from vae_core.data import catalog
from vae_core.model.losses import gaussian_kl

FOLLOWS_R2 = 0.3  # a unit is named after the true factor that explains at least this share of its variance

ctx = context.current()
model, data_name = ctx.model, ctx.data_name
dataset = data.dataset(data_name)
d = ctx.config.latent_dim
st.title("Traverse")
noun = catalog.noun(data_name)

mean, logvar = latents.codes(ctx.ref)
order = latent.dimension_order(torch.from_numpy(mean), torch.from_numpy(logvar)).tolist()
kl_dim = gaussian_kl(torch.from_numpy(mean), torch.from_numpy(logvar)).mean(0).numpy()  # inf for an AE
names = [f"z{j + 1}" + (f" (KL {kl_dim[j]:.2f})" if np.isfinite(kl_dim[j]) else "") for j in range(d)]
followed = measures.factors_followed(ctx.ref, mean)  # data with true factors: which one each unit moves
for j, (factor, r2) in enumerate(followed):
    if r2 >= FOLLOWS_R2:
        names[j] += f" · {factor} R² {r2:.2f}"

starts = {"origin": "the origin (z = 0)", "digit": "a digit's code"}
start = linked.radio(
    st,
    "Start from",
    starts,
    key="trav_start",
    name="start",
    format_func=lambda o: starts[o].replace("a digit", catalog.a_noun(data_name)),
)
if start == "digit":
    i, x = widgets.digit_picker(dataset, ctx.widget_key("trav"), noun.capitalize(), 3)
    base, source = latents.encode(model, x).mean[0].numpy(), int(dataset.labels[i])
else:
    i, base, source = None, np.zeros(d, np.float32), None

dec = section.decoder(ctx)  # None: the server decodes the grid and the sliders (a note says why)
if followed:
    st.caption(
        "A dimension's name says which true factor of the images it follows: the factor explaining the largest share"
        f" (R² ≥ {FOLLOWS_R2}) of its posterior mean's variance over the training images"
        f"{subsample.from_few(len(mean))} (vae_core.analysis.factors). A disentangled model gives each factor"
        " its own dimension."
    )
tabs = {"grid": "Manifold grid", "sliders": "Dimension sliders", "directions": "Directions"}
(grid_tab, slider_tab, direction_tab), _ = linked.tabs(tabs, key="trav_tab", name="tab")
with grid_tab:
    if d < 2:
        st.info("This model has a single latent dimension; use the sliders.")
    else:
        section.grid(ctx, dec, base, names, order)
with slider_tab:
    section.sliders(ctx, dec, base, names, order, key=ctx.widget_key(f"sl_{data_name}_{i}"))
with direction_tab:
    if catalog.attributes(data_name):
        st.caption(
            f"Shape attributes measured on every {noun} ({catalog.attribute_words(data_name)}, as in "
            "Morpho-MNIST) have directions in z that predict them; moving a code along one changes that attribute."
        )
        section.attribute_edit(ctx, base)
    elif followed:
        st.caption(
            f"{catalog.title(data_name)} carries its true factors: the slider names above say which dimension moves"
            " which factor. Its classes give directions below."
        )
    else:
        st.caption(
            f"No shape attributes for {catalog.title(data_name)}: they measure ink on a dark ground (Morpho-MNIST), "
            "which a folder's images need not be. Its classes still give directions below."
        )
    if source is None:
        st.info(f"Start from {catalog.a_noun(data_name)}'s code to move it from its class toward another one.")
    else:
        section.class_arithmetic(ctx, base, source)
