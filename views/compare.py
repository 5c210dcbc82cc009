"""Compare: autoencoder vs KL-only vs VAE at the same latent size, on the same data."""

import numpy as np
import pandas as pd
import streamlit as st
import torch
from plotly.subplots import make_subplots

from ui import figures, state
from vae_core.registry import KIND_NAMES

ctx = state.current()
entry, data_name = ctx.entry, ctx.data_name
st.title("AE vs KL-only vs VAE")
st.markdown(
    "The **autoencoder** (reconstruction only) separates the classes but leaves holes between them, "
    "where a sampler draws nonsense. The **KL-only** model matches the prior perfectly and describes "
    "nothing: every code looks the same. The **VAE** balances both: a dense, smooth map that still "
    "keeps the classes apart."
)

trios = state.model_trios(entry.image_shape)
if not trios:
    st.info(
        "Comparing needs a VAE, an autoencoder and a KL-only model of the same latent size. "
        "Train the missing ones on the Train page."
    )
    st.stop()
sizes = sorted(trios)
default = entry.latent_dim if entry.latent_dim in trios else sizes[0]
d = (
    st.segmented_control("Latent size", sizes, default=default, format_func=lambda s: f"z = {s}", key="cmp_d")
    or default
)
trio = trios[d]
st.caption("Comparing " + " · ".join(f"**{trio[k].path.stem}**" for k in ("ae", "kl", "vae")) + f" (z = {d}).")
method, params = state.projection_controls(d, key="cmp_map", default="native" if d == 2 else "pca")
shared = st.toggle(
    "Same axes for all three",
    value=True,
    key="cmp_shared",
    help="On shared axes the autoencoder's spread is visible at once; turn off to see each shape.",
)

data = state.dataset(data_name)
loaded = {k: state.load_model(str(e.path), e.mtime) for k, e in trio.items()}
models = {k: m for k, (m, _) in loaded.items()}
fig = make_subplots(
    1,
    3,
    horizontal_spacing=0.07,
    subplot_titles=[f"{KIND_NAMES[k]} ({trio[k].path.stem})" for k in trio],
)
for col, (kind, e) in enumerate(trio.items(), start=1):
    _, _, proj = state.map_projection(e, models[kind], data_name, method, params)
    panel = figures.latent_scatter(proj.embedding, data.labels.numpy(), data.classes, marker_size=3)
    for trace in panel.data:
        trace.showlegend = col == 1
        fig.add_trace(trace, row=1, col=col)
    if proj.exact:  # native or PCA: orthonormal axes, so the prior's circle is drawn to scale
        fig.add_trace(figures.prior_circle(showlegend=col == 1), row=1, col=col)
    fig.update_xaxes(title_text=proj.axis_labels[0], row=1, col=col)
    fig.update_yaxes(title_text=proj.axis_labels[1], row=1, col=col)
figures.equal_aspect(fig, 3, shared)
fig.update_layout(
    height=480, margin=dict(l=10, r=10, t=40, b=10), legend_title_text="class", legend=dict(itemsizing="constant")
)
st.plotly_chart(fig, key="cmp_chart")
st.session_state["compare_layout"] = fig.layout.to_plotly_json()
st.session_state["compare_models"] = [e.path.stem for e in trio.values()]

val = state.dataset(data_name, "val")
x = val.images[:: max(1, len(val) // 10)][:10]
prior = torch.randn(10, d, generator=torch.Generator().manual_seed(0))
cols = st.columns(3)
for col, (kind, model) in zip(cols, models.items(), strict=False):
    with col:
        st.markdown(f"**{KIND_NAMES[kind]}**")
        recon = state.decode(model, state.encode(model, x).mean)
        st.image(figures.image_grid(torch.cat([x, recon]), nrow=10, scale=2), caption="inputs / reconstructions")
        st.image(
            figures.image_grid(state.decode(model, prior), nrow=10, scale=2),
            caption="samples: the same 10 prior draws z ~ N(0, I)",
        )

st.subheader("Metrics (nats per image, validation digits)")
iw = 100
rows = []


def nats(v) -> str:
    """A figure in nats, or a dash where it does not exist (null in a checkpoint, inf in memory)."""
    return f"{v:.1f}" if v is not None and np.isfinite(v) else "— (no density)"


for kind, e in trio.items():
    m = state.metrics(str(e.path), e.mtime, data_name, iw, *loaded[kind])
    rows.append(
        {
            "model": KIND_NAMES[kind],
            "reconstruction": nats(m["recon"]),
            "KL": nats(m["kl"]),
            "negative ELBO": nats(m["neg_elbo"]),
            f"IW-NLL (K={iw})": nats(m["nll_iw"]),
            "active units": f"{m['active_units']} / {d}",
            "kNN accuracy": f"{m['knn_accuracy']:.1%}",
        }
    )
st.dataframe(pd.DataFrame(rows).set_index("model"))
st.caption(
    "The autoencoder's code is a point, so its KL, ELBO and likelihood do not exist. "
    "Active units: dimensions whose posterior mean varies across the data (Cov > 0.01, Burda et al. 2016)."
)
