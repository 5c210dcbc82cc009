"""One latent map on a page: drawn in the browser by ui.livemap, or by plotly when it cannot.

Pages describe a map once — projection, overlays (ui.livemap's Polyline, Markers, Points,
Ellipses, Circle, Raster), selection — and draw() renders it: in the browser (real digits on
hover, the decoder under the pointer on native and PCA maps, click/box/lasso) or, where the
browser lacks what the component needs, as the plotly map with the same overlays.
"""

from __future__ import annotations

import os

import numpy as np
import streamlit as st

import ui.livemap as lm
from ui import figures, state
from ui.livemap import cached


def live() -> bool:
    """Whether pages use the live map: on, unless VAE_EXPLORER_LIVEMAP=0 (then plotly maps and
    server-decoded images, as for a browser that cannot run the component)."""
    return os.environ.get("VAE_EXPLORER_LIVEMAP", "1") != "0"


def store() -> lm.AssetStore:
    return cached.store(str(state.cache_dir("livemap")))


def lift(proj) -> lm.Lift | None:
    """Map coordinates back to z. PCA: the fitted plane through the data mean. Native: the two
    shown dimensions, every other one at the data mean (where the decoder has seen codes)."""
    if not proj.exact:
        return None
    center = np.asarray(proj.center, np.float32).copy()
    if proj.method == "native" or proj.method == "pca" and proj.codes.shape[1] <= 2:
        shown = np.abs(proj.components).sum(0) > 0
        center = np.where(shown, 0.0, proj.codes.mean(0)).astype(np.float32)
    return lm.Lift(center, np.asarray(proj.components, np.float32))


def draw(
    ctx,
    proj,
    *,
    key: str,
    overlays=(),
    selection=None,
    decode: bool = True,
    values=None,
    visible=None,
    highlight=None,
    film=None,
    height: int = 560,
    bounds=None,
    title: str | None = None,
    model=None,
    entry=None,
) -> lm.MapEvent:
    """Draw ctx's data on `proj`; returns the map's event (selection, trigger, fallback).

    model/entry: another model than the sidebar's (Compare draws three)."""
    entry, model = entry or ctx.entry, model or ctx.model
    if not live():
        return plotly_draw(ctx, proj, key, overlays, height, title, lm.MapEvent(), selection)
    points, images, decoder, back = assets(entry, model, ctx.data_name, proj, decode)
    event = lm.latent_map(
        points,
        store(),
        key=key,
        images=images,
        decoder=decoder,
        lift=back,
        overlays=overlays,
        selection=selection,
        visible_classes=visible,
        values=values,
        highlight=highlight,
        film=film,
        axis_labels=proj.axis_labels,
        equal_aspect=proj.exact,
        bounds=bounds,
        height=height,
        title=title,
    )
    if event.fallback:
        st.caption(event.reason + " Showing the simpler map instead (hover shows a sketch of the digit).")
        return plotly_draw(ctx, proj, key, overlays, height, title, event, selection)
    return event


def assets(entry, model, data_name: str, proj, decode: bool = True):
    """The map's points, the dataset's images and (on linear maps) the decoder with its lift,
    published once (cached by checkpoint path + mtime, dataset, projection)."""
    data = state.dataset(data_name)
    cache = str(state.cache_dir("livemap"))
    map_key = f"{entry.path}:{entry.mtime}:{data_name}:{len(data)}:{proj.method}:{sorted(proj.params.items())}"
    points = cached.points(cache, map_key, proj.embedding, data.labels.numpy(), tuple(data.classes))
    images = cached.images(cache, f"{data_name}:{len(data)}", data.images)
    back = lift(proj) if decode else None
    decoder = cached.decoder(cache, str(entry.path), entry.mtime, model) if back is not None else None
    return points, images, decoder, back


def plotly_draw(ctx, proj, key, overlays, height, title, event: lm.MapEvent, selection) -> lm.MapEvent:
    """The plotly map. Its selection is kept by the page, not read back alone: a chart whose figure
    changed (an overlay toggled) reports an empty selection, which is not the user's choice."""
    selection = list(selection or [])
    if selection:
        overlays = [*overlays, lm.Markers(proj.embedding[selection[:500]], name="selected", symbol="circle", size=12)]
    fig = plotly_map(ctx, proj, overlays, height, title)
    chosen = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"), key=key + "_plotly")
    picked = figures.selected_indices(chosen, len(state.dataset(ctx.data_name)))
    event.selection = picked or selection
    return event


def plotly_map(ctx, proj, overlays, height: int, title: str | None):
    """The plotly rendering of the same map and overlays (hover: a braille sketch of the digit)."""
    data = state.dataset(ctx.data_name)
    fig = figures.latent_scatter(
        proj.embedding, data.labels.numpy(), data.classes, state.hover_text(ctx.data_name), proj.axis_labels, height
    )
    for overlay in overlays:
        figures.add_overlay(fig, overlay)
    if proj.exact:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    if title:
        fig.update_layout(title=title)
    return fig


@st.cache_resource(max_entries=32, show_spinner=False)
def _values(cache: str, data_name: str, name: str, label: str, _values: np.ndarray):
    return lm.publish_values(cached.store(cache), _values, label, scale="viridis")


def values(data_name: str, name: str, label: str, v: np.ndarray):
    """A per-point value (a shape attribute) published once per dataset and attribute, for colouring."""
    return _values(str(state.cache_dir("livemap")), data_name, name, label, v)


def extent(proj, pad: float = 0.05, prior_sigma: float = 3.0) -> tuple[float, float, float, float]:
    """The region a linear map shows: its points and the prior's ±3σ, with a margin."""
    lo = np.minimum(proj.embedding.min(0), -prior_sigma)
    hi = np.maximum(proj.embedding.max(0), prior_sigma)
    span = hi - lo
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])
