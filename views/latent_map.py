"""Latent map: where the encoder puts every digit, and where the prior says codes should be."""

import numpy as np
import streamlit as st
import torch

import ui.livemap as lm
from ui import context, maps, panels, state, widgets
from vae_core import latent

ctx = context.current()
entry, model, data_name = ctx.entry, ctx.model, ctx.data_name
data = state.dataset(data_name)
st.title("Latent map")
st.caption(
    f"Posterior means of {len(data):,} {data_name} images under {entry.stem}. Hover a point to see the digit"
    " (on native and PCA maps, empty space shows what the decoder draws there); click, box or lasso to select."
)

d = model.config.latent_dim
method, params = widgets.projection_controls(d, key=ctx.widget_key("map"))
c1, c2 = st.columns(2)
show_sigma = c1.toggle("Posterior σ ellipses (200 points)", key="map_sigma")
show_prior = c2.toggle("Prior samples N(0, I)", key="map_prior")
sel_key = ctx.widget_key(f"map_selection_{data_name}")  # kept until cleared or the model changes
with st.expander("Show classes, find a digit"):
    visible = widgets.class_filter(data.classes, key=ctx.widget_key("map_classes"))
    jump = widgets.jump_to(len(data), key=ctx.widget_key("map_jump"))
if jump is not None:
    st.session_state[sel_key] = [jump]

mean, logvar, proj = state.map_projection(entry, model, data_name, method, params)
overlays, notes = [], []
if (show_sigma or show_prior) and not proj.exact:
    notes.append(f"{method} is not linear, so σ ellipses and prior samples cannot be drawn on it; use native or PCA.")
if show_sigma and proj.exact and model.config.kind != "ae":
    pick = np.random.default_rng(0).choice(len(mean), size=min(200, len(mean)), replace=False)
    overlays.append(lm.Ellipses(proj.embedding[pick], proj.transform_cov(np.exp(logvar[pick]))))
elif show_sigma and model.config.kind == "ae":
    notes.append("An autoencoder's code is a point: it has no σ to draw.")
if show_prior:
    prior = torch.randn(1000, d, generator=torch.Generator().manual_seed(0))
    holes = latent.hole_fraction(prior, torch.from_numpy(mean))
    if proj.exact:
        overlays.append(lm.Points(proj.transform(prior[:400].numpy()), name="prior samples"))
    notes.append(
        f"**{holes:.0%}** of 1,000 prior samples land in holes: farther from every data code than 99% "
        "of codes are from their nearest neighbour. The decoder never saw codes there."
    )
if proj.exact:
    overlays.append(lm.Circle(2.0))
for n in notes:
    st.info(n)

event = maps.draw(
    ctx,
    proj,
    key=ctx.widget_key("latent_map"),
    overlays=overlays,
    selection=st.session_state.get(sel_key, []),
    visible=visible,
    highlight=jump,
)
st.session_state[sel_key] = event.selection
st.session_state["map_selection"] = event.selection  # for tests and the URL
if not event.selection:
    st.info("Click a point to see its reconstruction and neighbours; box or lasso to see many.")
    panels.downloads(ctx, mean, logvar, proj, None, key="map_dl")
    st.stop()
panels.selection(ctx, mean, logvar, proj, event.selection, key="map_dl")
if st.button("Clear selection", key="map_clear"):
    st.session_state[sel_key] = []
    st.rerun()
