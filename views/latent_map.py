"""Latent map: where the encoder puts every digit, and where the prior says codes should be.

The map is drawn before anything needs torch: the default model's codes and images ship as
arrays (ui/services/first_map.py), a native map is numpy, and the decoder's weights are read by
numpy. Overlays, colourings and selections that need the engine import it when asked.
"""

import numpy as np
import streamlit as st

import ui.livemap as lm
from ui.components import film, linked, maps, panels, widgets
from ui.frame import context, probe, url
from ui.services import data, latents, map_assets, models
from vae_core.analysis.thresholds import hole_words
from vae_core.data import catalog

ctx = context.current()
ref, config, data_name = ctx.ref, ctx.config, ctx.data_name
_, labels, classes = data.map_arrays(data_name)
n, noun = len(labels), catalog.noun(data_name)
st.title("Latent map")
st.caption(
    f"Posterior means of {n:,} {catalog.title(data_name)} training images under {ctx.entry.stem}. Hover a point"
    f" to see the {noun} (on native and PCA maps, empty space shows what the decoder draws there);"
    " click, box or lasso to select."
)

d, kind = config.latent_dim, config.kind
method, params = widgets.projection_controls(d, key=ctx.widget_key("map"))
c1 = c2 = c3 = c4 = st.container(horizontal=True, vertical_alignment="bottom")  # wraps on a narrow page
show_sigma = linked.toggle(
    c1, "Posterior σ ellipses", key="map_sigma", name="sigma", help="1σ of q(z|x) for 200 images."
)
show_prior = linked.toggle(c2, "Prior samples N(0, I)", key="map_prior", name="prior")
holes_help = f"Where {hole_words()}: the prior expects codes, the data put few."
show_holes = linked.toggle(c3, "Prior holes", key="map_holes", name="holes", help=holes_help)
colourings = ["class", *catalog.colourings(data_name)]
colour = linked.select(c4, "Colour by", colourings, key=ctx.widget_key("map_colour"), name="colour", width=220)
sel_key = ctx.widget_key(f"map_selection_{data_name}")  # kept until cleared or the model changes
if (shared := url.selection(n)) is not None:  # a link's selection, on the session's first run
    st.session_state[sel_key] = shared
with st.expander("Show classes, find an image by index"):
    visible = widgets.class_filter(classes, key=ctx.widget_key("map_classes"))
    jump = widgets.jump_to(n, key=ctx.widget_key("map_jump"), noun=noun)
if jump is not None:
    st.session_state[sel_key] = [jump]

mean, logvar, proj = latents.map_projection(ref, method, params)
probe.record(map_method_shown=proj.method)  # PCA while a large map fits
overlays, notes = [], []
if (show_sigma or show_prior or show_holes) and not proj.exact:
    name = proj.axis_labels[0].split()[0]  # "t-SNE" or "UMAP"
    notes.append(f"{name} is not linear: σ ellipses, prior samples and holes are drawn on native and PCA maps only.")
if show_sigma and proj.exact and kind != "ae":
    pick = np.random.default_rng(0).choice(len(mean), size=min(200, len(mean)), replace=False)
    overlays.append(lm.Ellipses(proj.embedding[pick], proj.transform_cov(np.exp(logvar[pick]))))
elif show_sigma and kind == "ae":
    notes.append("An autoencoder's code is a point: it has no σ to draw.")
if show_holes or show_prior or colour != "class":
    from ui.services import measures  # torch: once an overlay or a colouring asks for it
if show_holes and proj.exact and d == 2:
    box = maps.extent(proj, pad=0.3)  # wider than any view of the map: no unshaded strips at the edges
    from ui.services import prior_holes

    label = f"holes: {hole_words()}, within {prior_holes.SIGMA:g}σ"
    overlays.append(lm.Raster(prior_holes.grid(ref, box, mean, logvar), box, name=label))
if show_prior and proj.exact:
    prior = measures.draw(ref, "prior", 400, mean, seed=1)
    overlays.append(lm.Points(proj.transform(prior.numpy()), name="prior samples", color="#000000", size=7))
if proj.exact:
    overlays.append(lm.Circle(2.0))
if show_holes and d > 2:
    notes.append(
        f"Holes are shaded on 2-D latent spaces only; the share below is measured in all {d} dimensions of "
        f"{ctx.entry.stem}."
    )
for note in notes:
    st.info(note)
foreign = st.container()  # codes of data the model was not trained on: said here, measured after the map
if show_prior or show_holes:
    panels.prior_report(ctx, mean, logvar, show_prior, show_holes)

values = None
if colour != "class":
    found = data.factor_values(data_name) if colour in catalog.FACTOR_UNITS else measures.shape_attributes(data_name)
    values = map_assets.values(data_name, colour, f"{colour} ({catalog.unit(colour)})", found[colour])
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
# The measure imports torch and scores held-out images: on a fresh mount it waits for the live map's
# handshake (sent once the points are in, a frame before they are drawn; it reruns the page), so it
# does not compete with the map's first draw. On a map already up (other data picked) it runs at once.
if data_name != ctx.entry.dataset and event.shown:
    from ui.components import typicality

    with foreign:
        typicality.data_note(ctx)
probe.record(map_selection=event.selection)
recorded = models.film(ref.file)
film_data = models.own_data(ctx.entry) or data_name  # the film follows the training data's val images
if recorded is not None:
    # lazy: a closed expander runs nothing (the film's validation images need torch, which the map does not)
    box = st.expander("Training film: how this map formed", key=ctx.widget_key("map_film_open"), on_change="rerun")
    if box.open:
        with box:
            codes, epochs, history = recorded["codes"], recorded["epochs"], ctx.meta.get("history", [])
            film_key = f"{ref.path}:{ref.mtime}"
            film.show(film_key, film_data, codes, epochs, history, key=ctx.widget_key("map_film"), name=ctx.entry.stem)
    else:
        lm.unmounted(ctx.widget_key("map_film"))
if linked.toggle(
    st, "3-D view", key=ctx.widget_key("map_3d_on"), name="3d", help="The codes in three dimensions (a plotly scatter)."
):
    panels.view_3d(ctx, mean, logvar, labels, classes)
# a lasso of up to 100,000 points on a big map stays out of the link (it would be a 700 kB URL)
url.put(sel=url.format_indices(event.selection) if len(event.selection) <= 2000 else None)
if not event.selection:
    st.info("Click a point to see its reconstruction and neighbours; box or lasso to see many.")
    panels.downloads(ctx, mean, logvar, proj, None, key="map_dl")
    url.stop()
panels.selection(ctx, mean, logvar, proj, event.selection, key="map_dl")
if st.button("Clear selection", key="map_clear"):
    st.session_state[sel_key] = []
    st.rerun()
