"""The β-sweep chart: distortion against rate (Alemi et al. 2018, "Fixing a Broken ELBO"), one
line per latent size, β beside each point, dotted lines of equal −ELBO labelled with their value.

Labels are placed (ui/render/placement.py) in the pixels of the narrowest plot the page shows
(an 800-px-wide window), so that they collide neither there nor anywhere wider.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ui.render import placement
from ui.render.figures import PALETTE

HEIGHT = 540
MARGIN = dict(l=10, r=10, t=70, b=10)
PLOT_PX = (330.0, 400.0)  # the plot area's narrowest width and its height, in px (axes and titles excluded)
MARKER = 11
TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]


def ranges(rows: list[dict]) -> tuple[tuple[float, float], tuple[float, float]]:
    """(log10 x range, y range) shown: every point with a margin."""
    xs = [r["rate"] for r in rows if r["rate"] is not None and r["rate"] > 0]
    ys = [r["distortion"] for r in rows if r["distortion"] is not None]
    return (math.log10(min(xs) / 1.5), math.log10(max(xs) * 1.5)), (min(ys) * 0.9, max(ys) * 1.1)


def iso_values(rows: list[dict], k: int = 4) -> list[float]:
    """Up to k round −ELBO values spread over the sweep's range (curves rate + distortion = c)."""
    totals = [r["neg_elbo"] for r in rows if r["neg_elbo"] is not None and np.isfinite(r["neg_elbo"])]
    if not totals:
        return []
    out = []
    for c in np.geomspace(min(totals), max(totals), k):
        step = 5 if c < 100 else 10 if c < 300 else 50
        v = float(round(c / step) * step)
        if v not in out:
            out.append(v)
    return out


def rate_distortion(rows: list[dict]) -> go.Figure:
    """Distortion against rate for the points of a β sweep; customdata: each point's row index."""
    fig = go.Figure()
    (lx0, lx1), (y0, y1) = ranges(rows)
    w, h = PLOT_PX

    def px(x: float, y: float) -> tuple[float, float]:
        return (math.log10(x) - lx0) / (lx1 - lx0) * w, (y1 - y) / (y1 - y0) * h

    traces, obstacles = [], []
    for k, d in enumerate(sorted({r["latent_dim"] for r in rows})):
        idx = sorted((i for i, r in enumerate(rows) if r["latent_dim"] == d), key=lambda i: rows[i]["beta"])
        keep = [
            i for i in idx if rows[i]["rate"] is not None and rows[i]["distortion"] is not None and rows[i]["rate"] > 0
        ]
        pts = [px(rows[i]["rate"], rows[i]["distortion"]) for i in keep]
        obstacles += [placement.point_box(x, y, MARKER / 2 + 1) for x, y in pts]
        for a, b in zip(pts, pts[1:], strict=False):
            obstacles += placement.segment_boxes(a, b)
        traces.append((d, k, keep, pts))
    iso = [(c, _iso_curve(c, lx0, lx1, y0, y1)) for c in iso_values(rows)]
    labels = []
    for d, k, keep, pts in traces:
        texts = [f"β={rows[i]['beta']:g}" for i in keep]
        placed = placement.place(pts, texts, obstacles + labels, (w, h), MARKER / 2)
        labels += [box for _, box in placed]
        fig.add_trace(
            go.Scatter(
                x=[rows[i]["rate"] for i in keep],
                y=[rows[i]["distortion"] for i in keep],
                mode="lines+markers+text",
                text=texts,
                textposition=[pos for pos, _ in placed],
                textfont=dict(size=11),
                name=f"z = {d}",
                customdata=keep,
                marker=dict(size=MARKER, color=PALETTE[k % len(PALETTE)]),
                hovertemplate="%{text}<br>rate %{x:.1f} nats<br>distortion %{y:.1f} nats<extra>z = "
                + str(d)
                + "</extra>",
            )
        )
    curves = []  # the dotted lines themselves: an iso label must not sit on any of them
    for _, (xs, ys) in iso:
        pts = [px(x, y) for x, y in zip(xs, ys, strict=True)]
        curves += [b for a, z in zip(pts, pts[1:], strict=False) for b in placement.segment_boxes(a, z, r=1.0)]
    taken = obstacles + labels + curves
    for c, (xs, ys) in iso:
        _add_iso(fig, c, xs, ys, px, taken, (w, h))
    fig.update_layout(
        height=HEIGHT,
        margin=MARGIN,
        xaxis_title="rate: KL(q(z|x) ‖ p(z)), nats",
        yaxis_title="distortion: −E_q[log p(x|z)], nats",
        legend=dict(orientation="h", x=0, y=1.02, xanchor="left", yanchor="bottom", title_text="latent size "),
    )
    fig.update_xaxes(type="log", tickvals=TICKS, range=[lx0, lx1])
    fig.update_yaxes(range=[y0, y1])
    return fig


def _iso_curve(c: float, lx0: float, lx1: float, y0: float, y1: float) -> tuple[np.ndarray, np.ndarray]:
    """rate + distortion = c within the shown ranges (a curve on the log rate axis)."""
    rate = np.logspace(lx0, lx1, 120)
    keep = (rate < c) & (c - rate >= y0) & (c - rate <= y1)
    return rate[keep], c - rate[keep]


def _add_iso(fig, c, xs, ys, px, taken, size) -> None:
    """One dotted curve of equal −ELBO and its value, written beside it where nothing else is."""
    if not len(xs):
        return
    fig.add_trace(
        go.Scatter(x=xs, y=ys, mode="lines", line=dict(dash="dot", color="grey", width=1), name=f"−ELBO = {c:g}",
                   hoverinfo="name", showlegend=False)
    )  # fmt: skip
    text = f"−ELBO = {c:g}"
    points = [px(x, y) for x, y in zip(xs, ys, strict=True)]
    candidates = [(x + dx, y + dy) for x, y in points[::2] for dx, dy in ((0, -11), (0, 11), (-40, 0), (40, 0))]
    box = placement.free_spot(candidates, text, taken, size)
    if box is None:
        return
    w, h = size
    taken.append(box)
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    fig.add_annotation(
        x=cx / w, y=1 - cy / h, xref="x domain", yref="y domain", text=text, showarrow=False,
        font=dict(size=11, color="grey"), xanchor="center", yanchor="middle",
    )  # fmt: skip
