"""Latent map: where the encoder puts every digit, and where the prior says codes should be."""

import numpy as np
import streamlit as st

import ui.livemap as lm
from ui import analysis, context, film, maps, panels, share, state, widgets
from vae_core.data.attributes import UNITS

ctx = context.current()
entry, model, data_name = ctx.entry, ctx.model, ctx.data_name
data = state.dataset(data_name)
st.title("Latent map")
st.caption(
    f"Posterior means of {len(data):,} {state.title(data_name)} training images under {entry.stem}. Hover a point"
    f" to see the {state.noun(data_name)} (on native and PCA maps, empty space shows what the decoder draws there);"
    " click, box or lasso to select."
)

d, kind = model.config.latent_dim, model.config.kind
method, params = widgets.projection_controls(d, key=ctx.widget_key("map"))
c1, c2, c3, c4 = st.columns([1, 1, 1, 1.3])
show_sigma = c1.toggle("Posterior σ ellipses", key="map_sigma", help="1σ of q(z|x) for 200 images.")
show_prior = c2.toggle("Prior samples N(0, I)", key="map_prior")
holes_help = "Where q(z) < p(z)/10: the prior expects codes, the data put few."
show_holes = c3.toggle("Prior holes", key="map_holes", help=holes_help)
colour = c4.selectbox("Colour by", ["class", *UNITS], key="map_colour", format_func=lambda a: a.replace("_", " "))
sel_key = ctx.widget_key(f"map_selection_{data_name}")  # kept until cleared or the model changes
if (shared := share.selection(len(data))) is not None:  # a link's selection, on the session's first run
    st.session_state[sel_key] = shared
with st.expander("Show classes, find an image by index"):
    visible = widgets.class_filter(data.classes, key=ctx.widget_key("map_classes"))
    jump = widgets.jump_to(len(data), key=ctx.widget_key("map_jump"))
if jump is not None:
    st.session_state[sel_key] = [jump]

mean, logvar, proj = state.map_projection(entry, model, data_name, method, params)
st.session_state["map_method_shown"] = proj.method  # PCA while a large map fits; for tests
key = (str(entry.path), entry.mtime, data_name)
overlays, notes = [], []
if (show_sigma or show_prior or show_holes) and not proj.exact:
    name = proj.axis_labels[0].split()[0]  # "t-SNE" or "UMAP"
    notes.append(f"{name} is not linear: σ ellipses, prior samples and holes are drawn on native and PCA maps only.")
if show_sigma and proj.exact and kind != "ae":
    pick = np.random.default_rng(0).choice(len(mean), size=min(200, len(mean)), replace=False)
    overlays.append(lm.Ellipses(proj.embedding[pick], proj.transform_cov(np.exp(logvar[pick]))))
elif show_sigma and kind == "ae":
    notes.append("An autoencoder's code is a point: it has no σ to draw.")
if show_holes and proj.exact and d == 2:
    box = maps.extent(proj, pad=0.3)  # wider than any view of the map: no unshaded strips at the edges
    overlays.append(lm.Raster(analysis.holes_grid(*key, box, mean, logvar), box, name="holes: q < p/10"))
if show_prior and proj.exact:
    prior = analysis.draw(*key, "prior", 400, mean, seed=1)
    overlays.append(lm.Points(proj.transform(prior.numpy()), name="prior samples"))
if proj.exact:
    overlays.append(lm.Circle(2.0))
if show_holes and d > 2:
    notes.append(
        f"Holes are shaded on 2-D latent spaces only; the share below is measured in all {d} dimensions of "
        f"{entry.stem}."
    )
for n in notes:
    st.info(n)
if show_prior or show_holes:
    panels.prior_report(ctx, mean, logvar, show_prior, show_holes)

values = None
if colour != "class":
    v = analysis.shape_attributes(data_name)[colour]
    values = maps.values(data_name, colour, f"{colour.replace('_', ' ')} ({UNITS[colour]})", v)
event = maps.draw(
    ctx,
    proj,
    key=ctx.widget_key("latent_map"),
    overlays=overlays,
    selection=st.session_state.get(sel_key, []),
    visible=visible,
    highlight=jump,
    values=values,
)
st.session_state[sel_key] = event.selection
st.session_state["map_selection"] = event.selection  # for tests
recorded = state.film(str(entry.path), entry.mtime)
if recorded is not None:
    with st.expander("Training film: how this map formed"):
        codes, epochs, history = recorded["codes"], recorded["epochs"], ctx.meta.get("history", [])
        film_key, film_data = f"{entry.path}:{entry.mtime}", ctx.meta.get("dataset", data_name)
        film.show(film_key, film_data, codes, epochs, history, key=ctx.widget_key("map_film"))
if st.toggle("3-D view", key=ctx.widget_key("map_3d_on"), help="The codes in three dimensions (a plotly scatter)."):
    panels.view_3d(ctx, mean, logvar, data.labels.numpy(), data.classes)
share.put(sel=share.format_indices(event.selection))
if not event.selection:
    st.info("Click a point to see its reconstruction and neighbours; box or lasso to see many.")
    panels.downloads(ctx, mean, logvar, proj, None, key="map_dl")
    share.stop()
panels.selection(ctx, mean, logvar, proj, event.selection, key="map_dl")
if st.button("Clear selection", key="map_clear"):
    st.session_state[sel_key] = []
    st.rerun()
