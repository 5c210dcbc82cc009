"""The ELBO page's figures, from an ElboReport (plain floats and numpy arrays): no Streamlit, no torch.

- `plane`: the 2-D latent plane of one image: the true posterior p(z|x) as a heat map with its
  1σ/2σ highest-density contours, the encoder's q(z|x) and the per-image optimum q*(z|x) as
  ellipses, the prior's circles, and the L samples z_l ~ q numbered as in the strip beside it.
- `waterfall`: the identity log p(x) = E_q[log p(x|z)] − KL(q ‖ p(z)) + approximation + amortisation.
- `curves`: ELBO_L and IW_K against L and K, with their spread over repeats.
- `gradients`: variance of the reparameterised and score-function gradients against S.
- `dimensions`: q and q* per latent dimension, where there is no plane (D > 2).
"""

from __future__ import annotations

import numpy as np
import pandas  # noqa: F401  (before plotly: see below)
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .elbo_terms import fmt, terms

# Why pandas is imported above: plotly looks pandas up in sys.modules without the import lock, so
# while the server's warm-up thread (ui/frame/warmup.py) is importing it, a figure built here met a
# half-initialised module ("partially initialized module 'pandas' has no attribute 'Series'",
# seen when /elbo was the first page a fresh server served). A real import waits for it.

Q, Q_STAR, PRIOR, POST = "#d62728", "#2ca02c", "#7f7f7f", "#1f77b4"  # one colour per distribution, every figure
ESTIMATOR_COLOURS = {"reparameterised": "#1f77b4", "score": "#d62728", "score, baseline": "#ff7f0e"}
MAX_DIMENSIONS = 16  # bars in `dimensions`: the ones with the most KL


def _margins(fig: go.Figure, height: int, title: str = "") -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        title=dict(text=title, font=dict(size=14)) if title else None,
        legend=dict(orientation="h", yanchor="top", y=-0.15, x=0),
    )
    return fig


def plane(r, height: int = 520) -> go.Figure:
    """The latent plane of a D = 2 report (r.posterior and r.ellipses present)."""
    p = r.posterior
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=p.z1,
            y=p.z2,
            z=p.density,
            colorscale="Blues",
            showscale=False,
            name="p(z|x)",
            hovertemplate="z1 %{x:.2f}, z2 %{y:.2f}<br>p(z|x) %{z:.3g}<extra></extra>",
        )
    )
    lo, hi = float(p.levels[1]), float(p.levels[0])  # 2σ region: lower density; 1σ: higher
    fig.add_trace(
        go.Contour(
            x=p.z1,
            y=p.z2,
            z=p.density,
            contours=dict(start=lo, end=hi, size=max(hi - lo, 1e-300), coloring="none"),
            line=dict(color="#08306b", width=2),
            showscale=False,
            name="p(z|x): 1σ and 2σ regions",
            showlegend=True,
            hoverinfo="skip",
        )
    )
    t = np.linspace(0, 2 * np.pi, 73)
    for k in (1, 2):  # the prior's 1σ and 2σ circles
        fig.add_trace(_line(k * np.c_[np.cos(t), np.sin(t)], "p(z) = N(0, I): 1σ, 2σ", PRIOR, "dot", k == 1))
    for name, colour, dash in (("q", Q, "solid"), ("q*", Q_STAR, "dash")):
        label = "q(z|x), the encoder" if name == "q" else "q*(z|x), the best Gaussian"
        for k in (1, 2):
            fig.add_trace(_line(r.ellipses[f"{name} {k}σ"], f"{label}: 1σ, 2σ", colour, dash, k == 1))
    if r.samples is not None:
        z = r.samples.z
        fig.add_trace(
            go.Scatter(
                x=z[:, 0],
                y=z[:, 1],
                mode="markers+text",
                text=[str(i + 1) for i in range(len(z))],
                textposition="top right",
                marker=dict(color=Q, size=7, line=dict(color="white", width=1)),
                name="z_l ~ q(z|x)",
                hovertemplate="z_%{text}: (%{x:.2f}, %{y:.2f})<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[p.mean[0]],
            y=[p.mean[1]],
            mode="markers",
            marker=dict(symbol="x", color="#ffbf00", size=11, line=dict(color="#08306b", width=1)),
            name="E[z|x], the posterior's mean",
        )
    )
    fig.update_xaxes(range=[p.z1[0], p.z1[-1]], title="z1", constrain="domain")
    fig.update_yaxes(range=[p.z2[0], p.z2[-1]], title="z2", scaleanchor="x", scaleratio=1, constrain="domain")
    _margins(fig, height)
    fig.update_layout(legend=dict(y=-0.2, font=dict(size=11)))
    return fig


def _line(xy: np.ndarray, name: str, colour: str, dash: str, legend: bool) -> go.Scatter:
    return go.Scatter(
        x=xy[:, 0],
        y=xy[:, 1],
        mode="lines",
        line=dict(color=colour, dash=dash, width=2),
        name=name,
        legendgroup=name,
        showlegend=legend,
        hoverinfo="skip",
    )


def waterfall(r, height: int = 380) -> go.Figure:
    """E_q[log p(x|z)] − KL(q ‖ p(z)) = ELBO; + approximation + amortisation = log p(x)."""
    t = terms(r)
    steps = [
        ("E_q[log<br>p(x|z)]", "absolute", t["expected_log_lik"].value),
        ("− KL<br>to p(z)", "relative", -t["kl_prior"].value),
        ("ELBO", "total", t["elbo"].value),
        ("+ approx.<br>gap", "relative", t["approximation_gap"].value),
        ("+ amort.<br>gap", "relative", t["amortisation_gap"].value),
        ("log p(x)" if r.exact else "log p(x)<br>≈ IW", "total", t["log_px"].value),
    ]
    values = [v for _, _, v in steps]
    # The y axis spans the running total, not 0: the terms are ~100 nats, the steps a few.
    levels = np.cumsum([values[0], values[1], 0, values[3], values[4], 0])
    low, high = float(levels.min()), float(levels.max())
    pad = max(0.35 * (high - low), 1.0)
    fig = go.Figure(
        go.Waterfall(
            x=[s[0] for s in steps],
            measure=[s[1] for s in steps],
            y=values,
            text=[fmt(v, sign=m == "relative") for _, m, v in steps],
            textposition="outside",
            connector=dict(line=dict(color="#999", width=1)),
            increasing=dict(marker=dict(color=Q_STAR)),
            decreasing=dict(marker=dict(color=Q)),
            totals=dict(marker=dict(color=POST)),
            hovertemplate="%{x}: %{y:.2f} nats<extra></extra>",
        )
    )
    fig.update_yaxes(range=[low - pad, high + pad], title="nats")
    fig.update_xaxes(tickangle=0)
    return _margins(fig, height)


def curves(r, height: int = 360) -> go.Figure:
    """ELBO_L and IW_K (mean ± one standard deviation over repeats) against L and K."""
    c = r.curves
    fig = go.Figure()
    for name, mean, std, colour in (
        ("ELBO_L", c.elbo_mean, c.elbo_std, Q),
        ("IW_K", c.iw_mean, c.iw_std, Q_STAR),
    ):
        fig.add_trace(_band(c.ns, mean - std, mean + std, colour, name))
        fig.add_trace(
            go.Scatter(
                x=c.ns,
                y=mean,
                mode="lines+markers",
                line=dict(color=colour),
                name=f"{name} (mean ± sd)",
                legendgroup=name,
                hovertemplate=f"{name[:-2]} %{{x}}: %{{y:.2f}}<extra></extra>",
            )
        )
    px = "log p(x)" if r.exact else f"IW bound, K = {c.pooled_k:,}"
    for value, name, colour in ((r.log_px, px, POST), (r.elbo, "ELBO", PRIOR)):
        fig.add_hline(y=value, line=dict(color=colour, dash="dash"), annotation_text=f"{name} {fmt(value)}")
    fig.update_xaxes(type="log", title="L or K (samples)")
    fig.update_yaxes(title="nats", range=_focus(c, r))
    return _margins(fig, height)


def _focus(c, r) -> list[float]:
    """A y range that shows the convergence, not the single-sample spread (which can be huge)."""
    inner = np.r_[c.elbo_mean[1:], c.iw_mean[1:], r.log_px, r.elbo]
    spread = np.r_[c.elbo_std[-1], c.iw_std[-1], 0.5]
    lo, hi = float(inner.min()), float(inner.max())
    pad = max(0.3 * (hi - lo), 2 * float(spread.max()))
    return [lo - pad, hi + pad]


def _band(x, lo, hi, colour: str, group: str) -> go.Scatter:
    return go.Scatter(
        x=np.r_[x, x[::-1]],
        y=np.r_[hi, lo[::-1]],
        mode="lines",
        fill="toself",
        fillcolor=_rgba(colour, 0.15),
        line=dict(width=0),
        hoverinfo="skip",
        showlegend=False,
        legendgroup=group,
    )


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def gradients(r, height: int = 360) -> go.Figure:
    """Variance over repeats of each S-draw gradient estimate, for μ and for log σ² (log-log)."""
    g = r.gradients
    fig = make_subplots(1, 2, subplot_titles=("gradient in μ", "gradient in log σ²"), horizontal_spacing=0.12)
    for name, variance in g.variance.items():
        for col in (0, 1):
            v = np.asarray(variance[:, col], dtype=float)
            ok = np.isfinite(v) & (v > 0)
            fig.add_trace(
                go.Scatter(
                    x=g.ns[ok],
                    y=v[ok],
                    mode="lines+markers",
                    line=dict(color=ESTIMATOR_COLOURS.get(name, PRIOR)),
                    name=name,
                    legendgroup=name,
                    showlegend=col == 0,
                    hovertemplate=f"{name}, S = %{{x}}: %{{y:.3g}}<extra></extra>",
                ),
                row=1,
                col=col + 1,
            )
    fig.update_xaxes(type="log", title="S (draws per estimate)")
    fig.update_yaxes(type="log", title="variance (summed over dimensions)", col=1)
    fig.update_yaxes(type="log", col=2)
    _margins(fig, height)
    fig.update_layout(margin=dict(t=30))  # room for the two subplot titles
    return fig


def dimensions(r, height: int = 360) -> go.Figure:
    """q and q* per latent dimension (μ ± σ), the MAX_DIMENSIONS with the most KL to the prior."""
    kl = 0.5 * (r.q_mean**2 + np.exp(r.q_logvar) - r.q_logvar - 1)
    order = np.argsort(-kl, kind="stable")[:MAX_DIMENSIONS]
    labels = [f"z{j + 1}" for j in order]
    fig = go.Figure()
    for name, mean, logvar, colour, shift in (
        ("q(z|x), the encoder", r.q_mean, r.q_logvar, Q, -0.15),
        ("q*(z|x), the best Gaussian", r.q_star_mean, r.q_star_logvar, Q_STAR, 0.15),
    ):
        fig.add_trace(
            go.Scatter(
                x=np.arange(len(order)) + shift,
                y=mean[order],
                error_y=dict(type="data", array=np.exp(0.5 * logvar[order]), color=colour),
                mode="markers",
                marker=dict(color=colour, size=8),
                name=f"{name}: μ ± σ",
                customdata=labels,
                hovertemplate="%{customdata}: %{y:.2f}<extra></extra>",
            )
        )
    fig.add_hrect(y0=-1, y1=1, fillcolor=PRIOR, opacity=0.1, line_width=0, annotation_text="prior ± 1σ")
    fig.update_xaxes(tickvals=np.arange(len(order)), ticktext=labels, title="dimension (most KL first)")
    fig.update_yaxes(title="z")
    return _margins(fig, height)


def fit_trace(r, height: int = 240) -> go.Figure:
    """q*'s objective (its ELBO, nats) over the fit's steps, from where the winning start began."""
    trace = np.asarray(r.q_star_trace, dtype=float)
    fig = go.Figure(go.Scatter(x=np.arange(len(trace)), y=trace, mode="lines", line=dict(color=Q_STAR)))
    fig.add_hline(y=r.elbo, line=dict(color=Q, dash="dash"), annotation_text=f"ELBO(q) {fmt(r.elbo)}")
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="ELBO of the fit (nats)")
    return _margins(fig, height)
