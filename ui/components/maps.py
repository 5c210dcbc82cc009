"""One latent map on a page: drawn in the browser by ui.livemap, or by plotly when it cannot.

Pages describe a map once — projection, overlays (ui.livemap's Polyline, Markers, Points,
Ellipses, Circle, Raster), selection — and draw() renders it: in the browser (real digits on
hover, the decoder under the pointer on native and PCA maps, click/box/lasso) or, where the
browser lacks what the component needs, as the plotly map with the same overlays.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

import ui.livemap as lm
from ui import settings
from ui.render import figures
from ui.services import data, map_assets
from ui.services.models import ModelRef


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
    ref: ModelRef | None = None,
) -> lm.MapEvent:
    """Draw ctx's data on `proj`; returns the map's event (selection, trigger, fallback).

    ref: another model than the sidebar's (Compare draws three)."""
    ref = ref or ctx.ref
    if not settings.live_map():
        return plotly_draw(ctx, proj, key, overlays, height, title, lm.MapEvent(), selection)
    assets = map_assets.publish(ref, proj, decode)
    event = lm.latent_map(
        assets.points,
        map_assets.store(),
        key=key,
        images=assets.images,
        decoder=assets.decoder,
        lift=assets.lift,
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
        renderer=settings.renderer(),
    )
    if event.fallback:
        st.caption(event.reason + " Showing the simpler map instead (hover shows a sketch of the digit).")
        return plotly_draw(ctx, proj, key, overlays, height, title, event, selection)
    return event


def plotly_draw(ctx, proj, key, overlays, height, title, event: lm.MapEvent, selection) -> lm.MapEvent:
    """The plotly map. Its selection is kept by the page, not read back alone: a chart whose figure
    changed (an overlay toggled) reports an empty selection, which is not the user's choice."""
    selection = list(selection or [])
    if selection:
        overlays = [*overlays, lm.Markers(proj.embedding[selection[:500]], name="selected", symbol="circle", size=12)]
    fig = plotly_map(ctx, proj, overlays, height, title)
    chosen = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"), key=key + "_plotly")
    picked = figures.selected_indices(chosen, len(proj.embedding))
    event.selection = picked or selection
    return event


def plotly_map(ctx, proj, overlays, height: int, title: str | None):
    """The plotly rendering of the same map and overlays (hover: a braille sketch of the digit)."""
    _, labels, classes = data.map_arrays(ctx.data_name)
    fig = figures.latent_scatter(
        proj.embedding, labels, classes, data.hover_text(ctx.data_name), proj.axis_labels, height
    )
    for overlay in overlays:
        figures.add_overlay(fig, overlay)
    if proj.exact:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    if title:
        fig.update_layout(title=title)
    return fig


def extent(proj, pad: float = 0.05, prior_sigma: float = 3.0) -> tuple[float, float, float, float]:
    """The region a linear map shows: its points and the prior's ±3σ, with a margin."""
    lo = np.minimum(proj.embedding.min(0), -prior_sigma)
    hi = np.maximum(proj.embedding.max(0), prior_sigma)
    span = hi - lo
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])
