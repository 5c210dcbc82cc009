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
from ui.components import notes
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
    event.shown = event.ready
    if event.decoder_error:
        notes.once(lm.decoder_note(event.decoder_error) + " The map shows no decoding under the pointer.")
    elif assets.decoder_note:
        notes.once(f"No decoding under the pointer: {assets.decoder_note}")
    return event


PLOTLY_MAX = 20_000  # points the plotly map draws (a fixed random subset above): its SVG scatter stalls beyond


def shown_subset(n: int) -> np.ndarray | None:
    """The points a plotly map of n points draws: None for all of them, else a fixed random PLOTLY_MAX."""
    if n <= PLOTLY_MAX:
        return None
    return np.sort(np.random.default_rng(0).choice(n, PLOTLY_MAX, replace=False))


def plotly_draw(ctx, proj, key, overlays, height, title, event: lm.MapEvent, selection) -> lm.MapEvent:
    """The plotly map. Its selection is kept by the page, not read back alone: a chart whose figure
    changed (an overlay toggled) reports an empty selection, which is not the user's choice."""
    selection = list(selection or [])
    if selection:
        overlays = [*overlays, lm.Markers(proj.embedding[selection[:500]], name="selected", symbol="circle", size=12)]
    keep = shown_subset(len(proj.embedding))
    if keep is not None:
        st.caption(f"This map shows a fixed random {len(keep):,} of the {len(proj.embedding):,} points.")
    fig = plotly_map(ctx, proj, overlays, height, title, keep)
    chosen = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"), key=key + "_plotly")
    picked = figures.selected_indices(chosen, len(proj.embedding) if keep is None else len(keep))
    if keep is not None:
        picked = keep[picked].tolist()
    event.selection = picked or selection
    event.shown = True  # Streamlit draws a plotly chart itself: nothing to wait for
    return event


def plotly_map(ctx, proj, overlays, height: int, title: str | None, keep: np.ndarray | None = None):
    """The plotly rendering of the same map and overlays (hover: a braille sketch of the digit), of
    the points `keep` (None: all of them)."""
    images, labels, classes = data.map_arrays(ctx.data_name)
    xy = proj.embedding if keep is None else proj.embedding[keep]
    text = data.hover_text(ctx.data_name) if keep is None else figures.braille(images[keep] / 255.0)
    fig = figures.latent_scatter(xy, labels if keep is None else labels[keep], classes, text, proj.axis_labels, height)
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
