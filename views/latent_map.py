"""Latent map: where the encoder puts every digit, and where the prior says codes should be."""

import numpy as np
import streamlit as st
import torch

from ui import figures, state
from vae_core import latent

ctx = state.current()
entry, model, data_name = ctx.entry, ctx.model, ctx.data_name
data = state.dataset(data_name)
st.title("Latent map")
st.caption(
    f"Posterior means of {len(data):,} {data_name} images under {entry.path.stem}. "
    "Hover a point to see the digit; click one to see its reconstruction and neighbours."
)

d = model.config.latent_dim
method, params = state.projection_controls(d, key=ctx.widget_key("map"))
c1, c2 = st.columns(2)
show_sigma = c1.toggle("Posterior σ ellipses (200 points)", key="map_sigma")
show_prior = c2.toggle("Prior samples N(0, I)", key="map_prior")

mean, logvar, proj = state.map_projection(entry, model, data_name, method, params)
labels = data.labels.numpy()
fig = figures.latent_scatter(proj.embedding, labels, data.classes, state.hover_text(data_name), proj.axis_labels)

notes = []
if (show_sigma or show_prior) and not proj.exact:
    notes.append(
        f"{method} is not linear, so σ ellipses and prior samples cannot be drawn faithfully on it; use native or PCA."
    )
if show_sigma and proj.exact and model.config.kind != "ae":
    rng = np.random.default_rng(0)
    pick = rng.choice(len(mean), size=min(200, len(mean)), replace=False)
    fig.add_trace(figures.ellipse_trace(proj.embedding[pick], proj.transform_cov(np.exp(logvar[pick]))))
elif show_sigma and model.config.kind == "ae":
    notes.append("An autoencoder's code is a point: it has no σ to draw.")
if show_prior:
    prior = torch.randn(1000, d, generator=torch.Generator().manual_seed(0))
    holes = latent.hole_fraction(prior, torch.from_numpy(mean))
    if proj.exact:
        shown = prior[:400].numpy()  # all 1,000 count; 400 keep the map readable
        figures.add_points(fig, proj.transform(shown), "prior samples", color="rgba(0,0,0,0.6)", symbol="x", size=4)
    notes.append(
        f"**{holes:.0%}** of 1,000 prior samples land in holes: farther from every data code than 99% "
        "of codes are from their nearest neighbour. The decoder never saw codes there."
    )
for n in notes:
    st.info(n)

# The clicked point is kept in the session, not read back from the chart alone: a chart whose
# figure changed (an overlay toggled) reports an empty selection, which is not the user's choice.
selected_key = ctx.widget_key(f"map_selected_{data_name}")
if selected_key in st.session_state:
    figures.add_points(fig, proj.embedding[[st.session_state[selected_key]]], "selected", symbol="circle-open", size=16)
event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=ctx.widget_key("map_chart"))
picked = state.selected_index(event, len(data))
if picked is not None:
    st.session_state[selected_key] = picked
i = st.session_state.get(selected_key)
if i is None:
    st.info("Click a point to see its reconstruction and its nearest neighbours in latent space.")
    st.stop()

x = data.images[i : i + 1]
recon = state.decode(model, mean[i : i + 1])
idx, dist = latent.nearest_neighbours(torch.from_numpy(mean[i : i + 1]), torch.from_numpy(mean), k=9)
cols = st.columns([1, 1, 4])
cols[0].image(figures.to_pil(x[0]), caption=f"#{i} · class {data.classes[int(labels[i])]}")
cols[1].image(figures.to_pil(recon[0]), caption="reconstruction (decoder at μ)")
cols[2].image(figures.image_grid(data.images[idx[0, 1:]], nrow=8), caption="8 nearest neighbours in latent space")
if st.button("Clear selection", key="map_clear"):
    del st.session_state[selected_key]
    st.rerun()
