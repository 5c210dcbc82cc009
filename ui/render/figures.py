"""Plotly figures and image strips for the pages; no Streamlit and no torch here (images come as
arrays or tensors, read through numpy), so they are testable and load fast."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
BRAILLE_BITS = (
    (0, 0, 0x01),
    (1, 0, 0x02),
    (2, 0, 0x04),
    (0, 1, 0x08),
    (1, 1, 0x10),
    (2, 1, 0x20),
    (3, 0, 0x40),
    (3, 1, 0x80),
)


BRAILLE_CHARS = np.array([chr(0x2800 + i) for i in range(256)])


def braille(images: np.ndarray, threshold: float = 0.35) -> list[str]:
    """Digits [N, H, W] as hover text: lines of braille characters, each 2x4 pixels, so a
    28x28 digit is 7 lines of 14 characters (~100 per point instead of an image per point)."""
    n, h, w = images.shape
    h4, w2 = -(-h // 4) * 4, -(-w // 2) * 2
    on = np.zeros((n, h4, w2), np.uint8)
    on[:, :h, :w] = images > threshold
    blocks = on.reshape(n, h4 // 4, 4, w2 // 2, 2)
    code = np.zeros((n, h4 // 4, w2 // 2), np.int64)
    for dy, dx, bit in BRAILLE_BITS:
        code += blocks[:, :, dy, :, dx] * bit
    chars = BRAILLE_CHARS[code]
    return ["<br>".join("".join(row) for row in img) for img in chars]


def latent_scatter(
    xy: np.ndarray,
    labels: np.ndarray,
    classes,
    hover: list[str] | None = None,
    axis_labels=("z1", "z2"),
    height: int = 560,
    marker_size: int = 5,
) -> go.Figure:
    """Scattergl of codes, one trace per class; customdata holds each point's dataset index,
    `hover` (e.g. from braille()) one text per point."""
    fig = go.Figure()
    for c, name in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        if len(idx) == 0:
            continue
        fig.add_trace(
            go.Scattergl(
                x=xy[idx, 0],
                y=xy[idx, 1],
                mode="markers",
                name=str(name),
                marker=dict(size=marker_size, color=PALETTE[c % len(PALETTE)], opacity=0.75),
                customdata=idx,
                text=[hover[i] for i in idx] if hover else None,
                hovertemplate=f"<b>{name}</b> · #%{{customdata}}<br>%{{text}}<extra></extra>"
                if hover
                else f"<b>{name}</b> · #%{{customdata}}<extra></extra>",
            )
        )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        legend_title_text="class",
        xaxis_title=axis_labels[0],
        yaxis_title=axis_labels[1],
        hoverlabel=dict(font_family="monospace", bgcolor="white"),
        legend=dict(itemsizing="constant"),  # legend symbols at a readable size, not the 3-px markers
    )
    return fig


def equal_aspect(fig: go.Figure, n_panels: int, shared: bool = False) -> go.Figure:
    """One unit is as long on y as on x in every panel (a circle stays a circle); with `shared`,
    all panels also show the same ranges."""
    for i in range(1, n_panels + 1):
        suffix = "" if i == 1 else str(i)
        fig.layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}", scaleratio=1)
        if shared and i > 1:
            fig.layout[f"xaxis{suffix}"].update(matches="x")
            fig.layout[f"yaxis{suffix}"].update(matches="y")
    return fig


def add_points(fig: go.Figure, xy: np.ndarray, name: str, color="black", symbol="x", size=9, line=False):
    fig.add_trace(
        go.Scattergl(
            x=xy[:, 0],
            y=xy[:, 1],
            name=name,
            mode="lines+markers" if line else "markers",
            marker=dict(color=color, symbol=symbol, size=size),
            hoverinfo="skip",
            line=dict(color=color, width=2),
        )
    )
    return fig


def ellipse_trace(centres: np.ndarray, covs: np.ndarray, name="posterior 1σ", color="rgba(0,0,0,0.45)", n=40):
    """One line trace of many 1-σ ellipses (covs [M, 2, 2] in map coordinates), None-separated."""
    t = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)], 0)  # [2, n]
    xs, ys = [], []
    for c, cov in zip(centres, covs, strict=False):
        vals, vecs = np.linalg.eigh(cov)
        pts = vecs @ (np.sqrt(np.clip(vals, 0, None))[:, None] * circle) + c[:, None]
        xs += [*pts[0], None]
        ys += [*pts[1], None]
    return go.Scatter(x=xs, y=ys, mode="lines", name=name, line=dict(color=color, width=1), hoverinfo="skip")


def prior_circle(radius: float = 2.0, name: str = "prior, 2σ", showlegend: bool = True) -> go.Scatter:
    """The circle holding ~86 % of N(0, I_2): on native and PCA axes (orthonormal), the prior's scale."""
    t = np.linspace(0, 2 * np.pi, 120)
    return go.Scatter(
        x=radius * np.cos(t),
        y=radius * np.sin(t),
        mode="lines",
        name=name,
        hoverinfo="skip",
        line=dict(color="black", dash="dash", width=1),
        showlegend=showlegend,
    )


def pixels(images) -> np.ndarray:
    """Images as uint8 [N, H, W, C] (C = 1 or 3): from [N, C, H, W] or [N, H, W] floats in [0, 1]
    (numpy arrays or tensors) or uint8."""
    a = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images)
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4:
        raise ValueError(f"Images must be [N, C, H, W] or [N, H, W], not {list(a.shape)}.")
    if a.dtype != np.uint8:
        a = np.rint(np.clip(a.astype(np.float32), 0, 1) * 255).astype(np.uint8)
    return a.transpose(0, 2, 3, 1)


def image_grid(images, nrow: int, scale: int = 3, padding: int = 2) -> Image.Image:
    """Images (see `pixels`) -> one PIL image, nrow per row on a grey background (as torchvision's
    make_grid), scaled up crisply; grey images stay single-channel."""
    a = pixels(images)
    n, h, w, c = a.shape
    ncol, nrows = min(nrow, max(n, 1)), max(1, -(-n // nrow))
    grid = np.full((nrows * (h + padding) + padding, ncol * (w + padding) + padding, c), 89, np.uint8)  # 0.35 grey
    for k in range(n):
        y, x = padding + (k // nrow) * (h + padding), padding + (k % nrow) * (w + padding)
        grid[y : y + h, x : x + w] = a[k]
    img = Image.fromarray(grid[..., 0] if c == 1 else grid)
    return img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)


def to_pil(x, size: int = 140) -> Image.Image:
    """One image ([C, H, W], [1, C, H, W] or [H, W]) -> an enlarged PIL image."""
    a = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)
    a = pixels(a.reshape(-1, *a.shape[-3:]) if a.ndim >= 3 else a[None])[0]
    img = Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a)
    return img.resize((size, size), Image.Resampling.NEAREST)


# The validation loss series (history key, name, colour): one home for the loss chart and the
# training film's sparkline, so a colour means the same series in both.
LOSS_SERIES = (
    ("val_neg_elbo", "−ELBO", "#d62728"),
    ("val_recon", "reconstruction", "#1f77b4"),
    ("val_kl", "KL", "#2ca02c"),
)


def loss_curves(history: list[dict], marked_epoch: int | None = None) -> go.Figure:
    """Validation losses per epoch (nats per image): −ELBO and reconstruction on one axis on top
    (−ELBO = reconstruction + KL, so its line is the upper one), the KL below on its own axis —
    it is tens of nats beside a reconstruction of a hundred or more, and would sit flat at the
    bottom of a shared one."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.06)
    epochs = [h["epoch"] for h in history]
    for key, name, color in LOSS_SERIES:
        ys = [h.get(key) for h in history]
        if any(y is not None and np.isfinite(y) for y in ys):
            line = dict(color=color)
            trace = go.Scatter(x=epochs, y=ys, mode="lines+markers", name=name, line=line, marker=dict(color=color))
            fig.add_trace(trace, row=2 if key == "val_kl" else 1, col=1)
    if marked_epoch is not None:
        fig.add_vline(x=marked_epoch, line_color="grey", line_dash="dot")
    fig.update_yaxes(title_text="nats per image", row=1, col=1)
    fig.update_yaxes(title_text="KL (nats)", row=2, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), title="validation losses")
    return fig


def add_overlay(fig: go.Figure, overlay) -> go.Figure:
    """Draw one ui.livemap overlay (Polyline, Markers, Points, Ellipses, Circle, Raster) with plotly,
    for the map's fallback rendering."""
    from ui.livemap import overlays as lo

    if isinstance(overlay, lo.Polyline):
        xy = np.asarray(overlay.xy, np.float64).reshape(-1, 2)
        add_points(fig, xy, overlay.name, color=overlay.color, symbol="circle", size=6, line=True)
        if len(xy) and overlay.start_label:
            add_points(fig, xy[:1], overlay.start_label, color="#2ca02c", symbol="triangle-up", size=14)
        if len(xy) and overlay.end_label:
            add_points(fig, xy[-1:], overlay.end_label, color="#d62728", symbol="square", size=12)
    elif isinstance(overlay, lo.Markers):  # Points too
        symbol = "circle-open" if overlay.name == "selected" else overlay.symbol
        add_points(fig, np.asarray(overlay.xy).reshape(-1, 2), overlay.name, overlay.color, symbol, overlay.size)
    elif isinstance(overlay, lo.Ellipses):
        covs = np.asarray(overlay.covs) * overlay.n_sigma**2
        fig.add_trace(ellipse_trace(np.asarray(overlay.centers).reshape(-1, 2), covs, overlay.name, overlay.color))
    elif isinstance(overlay, lo.Circle):
        circle = prior_circle(overlay.radius, overlay.name)
        circle.x, circle.y = np.asarray(circle.x) + overlay.center[0], np.asarray(circle.y) + overlay.center[1]
        fig.add_trace(circle)
    elif isinstance(overlay, lo.Raster):
        fig.add_trace(raster_trace(overlay))
    return fig


def raster_trace(overlay) -> go.Heatmap:
    """A shaded grid (row 0 at the top) as a translucent heatmap over its extent."""
    v = np.clip(np.nan_to_num(np.asarray(overlay.values, np.float64)), 0, 1)[::-1]  # plotly's row 0 is the bottom
    x0, x1, y0, y1 = overlay.extent
    h, w = v.shape
    return go.Heatmap(
        z=v,
        x=np.linspace(x0, x1, w),
        y=np.linspace(y0, y1, h),
        colorscale=[[0, "rgba(0,0,0,0)"], [1, overlay.color]],
        opacity=overlay.max_alpha,
        showscale=False,
        hoverinfo="skip",
        name=overlay.name,
    )


def selected_indices(event, n: int) -> list[int]:
    """The dataset indices of the points selected in a plotly selection event (clicked, boxed or
    lassoed). The event comes from the browser: anything that is not an integer in [0, n) — a
    point of an overlay without customdata, an index out of range, text — is skipped, never raised."""
    out = []
    try:
        for p in event.selection.points if event else []:
            value = np.ravel(p.get("customdata", []))[:1]
            if value.size and float(value[0]).is_integer() and 0 <= int(value[0]) < n:
                out.append(int(value[0]))
    except (AttributeError, TypeError, ValueError, OverflowError):
        return []
    return sorted(set(out))


def latent_scatter_3d(xyz: np.ndarray, labels: np.ndarray, classes, axis_labels, height: int = 620) -> go.Figure:
    """Scatter3d of codes, one trace per class (customdata: the dataset index)."""
    fig = go.Figure()
    for c, name in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        if len(idx):
            fig.add_trace(
                go.Scatter3d(
                    x=xyz[idx, 0],
                    y=xyz[idx, 1],
                    z=xyz[idx, 2],
                    mode="markers",
                    name=str(name),
                    marker=dict(size=2, color=PALETTE[c % len(PALETTE)], opacity=0.8),
                    customdata=idx,
                    hovertemplate=f"<b>{name}</b> · #%{{customdata}}<extra></extra>",
                )
            )
    titles = dict(xaxis_title=axis_labels[0], yaxis_title=axis_labels[1], zaxis_title=axis_labels[2])
    fig.update_layout(
        height=height,
        margin=dict(l=0, r=0, t=10, b=0),
        scene=dict(aspectmode="data", **titles),
        legend=dict(itemsizing="constant", title_text="class"),
    )
    return fig
