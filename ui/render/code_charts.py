"""The Encode page's charts of one code: μ (± σ) and the KL per dimension, dimensions in order.

Dimensions stay in index order (z1, z2, ...) on both charts so a bar on one lines up with the
same dimension on the other. An autoencoder's code is a point: its chart shows μ alone.
KL values are in nats with plain decimals (plotly would write 1e-7 nats as "100n").
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

CODE_COLOR, KL_COLOR = "#1f77b4", "#ff7f0e"


def code_bars(mean: np.ndarray, std: np.ndarray | None) -> go.Figure:
    """μ per dimension, with ±σ error bars when the code has a σ (None or zeros: a point code)."""
    names = [f"z{j + 1}" for j in range(len(mean))]
    point = std is None or not np.isfinite(std).all() or not np.any(std > 0)
    error = None if point else dict(type="data", array=np.asarray(std), visible=True)
    title = "code μ per dimension (a point: no σ)" if point else "posterior μ ± σ per dimension"
    fig = go.Figure(go.Bar(x=names, y=mean, error_y=error, marker_color=CODE_COLOR, name="μ" if point else "μ ± σ"))
    fig.add_hline(y=0, line_color="grey", line_width=1)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), title=title, yaxis_title="z")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names)
    return fig


def kl_bars(kl: np.ndarray) -> go.Figure:
    """KL(q(z_j|x) ‖ N(0, 1)) per dimension, in nats (closed form; Kingma & Welling 2013, app. B)."""
    names = [f"z{j + 1}" for j in range(len(kl))]
    fig = go.Figure(
        go.Bar(x=names, y=kl, marker_color=KL_COLOR, name="KL", hovertemplate="%{x}: %{y:.3g} nats<extra></extra>")
    )
    fig.update_layout(
        height=300,
        margin=dict(l=10, r=10, t=30, b=10),
        title=f"KL per dimension (nats; total {float(np.sum(kl)):.2f})",
        yaxis_title="nats",
    )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names)
    fig.update_yaxes(exponentformat="none", tickformat=".2~f", rangemode="tozero")
    return fig
