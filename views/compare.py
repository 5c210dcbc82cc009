"""Compare: autoencoder vs KL-only vs VAE at the same latent size, on the same data, measured."""

import pandas as pd
import streamlit as st
import torch

import ui.livemap as lm
from ui.components import linked, maps, widgets
from ui.frame import context, probe, url
from ui.render import figures
from ui.sections import compare as section
from ui.services import data, latents, models
from vae_core.data import catalog
from vae_core.io.registry import KIND_NAMES

ctx = context.current()
entry, data_name = ctx.entry, ctx.data_name
st.title("AE vs KL-only vs VAE")
st.markdown(
    "Three objectives on the same network: the **autoencoder** only reconstructs, the **KL-only** model only "
    "matches the prior N(0, I), the **VAE** does both (the ELBO). Below, what each one's latent space looks "
    "like and what the measures say about it — on these models, not as the textbook tells it."
)

trios = models.model_trios(entry.image_shape, entry.dataset, prefer_format=entry.format)
sets = trios or models.beta_sets(entry.image_shape, entry.dataset)  # no trio: VAEs of different β, if any
if not sets:
    st.info(
        "Comparing needs a VAE, an autoencoder and a KL-only model of the same latent size (or VAEs of one size "
        "with different β). Train the missing ones on the Train page."
    )
    url.stop()
if not trios:
    st.info(
        f"No autoencoder and KL-only model of {catalog.title(entry.dataset)} here: comparing its VAEs of different β "
        "instead (β = 1 is the ELBO; a larger β weighs the KL more, as the β-VAE paper does: Higgins et al. 2017)."
    )
sizes = sorted(sets)
default = entry.latent_dim if entry.latent_dim in sets else sizes[0]
d = linked.segmented(
    st, "Latent size", sizes, key="cmp_d", name="size", default=default, format_func=lambda s: f"z = {s}"
)
trio = sets[d]
names = {k: KIND_NAMES[e.kind] + ("" if trios else f", β = {e.meta['model_config'].get('beta', 1.0):g}")
         for k, e in trio.items()}  # fmt: skip
st.caption("Comparing " + " · ".join(f"**{e.stem}**" for e in trio.values()) + f" (z = {d}).")
method, params = widgets.projection_controls(d, key=f"cmp_map_{d}", default="native" if d == 2 else "pca")
shared = linked.toggle(
    st,
    "Same axes for all three",
    key="cmp_shared",
    name="same_axes",
    default=True,
    help="On shared axes the autoencoder's spread is visible at once; turn off to see each shape.",
)

refs = {k: models.ModelRef.of(e, data_name) for k, e in trio.items()}
loaded = {k: models.load_model(r)[0] for k, r in refs.items()}
maps_ = {k: latents.map_projection(r, method, params) for k, r in refs.items()}
bounds = section.shared_bounds([p for _, _, p in maps_.values()]) if shared else None
val = data.dataset(data_name, "val")
x = val.images[:: max(1, len(val) // 10)][:10]
prior = torch.randn(10, d, generator=torch.Generator().manual_seed(0))
# One card per model: its map, reconstructions and prior samples together.
row = widgets.cards("cmp_cards")
for kind, e in trio.items():
    proj, model = maps_[kind][2], loaded[kind]
    with row.container(width=widgets.CARD_PX, key=f"cmp_card_{kind}"):
        maps.draw(
            ctx,
            proj,
            key=f"cmp_{kind}_{d}",
            overlays=[lm.Circle(2.0)] if proj.exact else [],
            height=360,
            bounds=bounds,
            title=f"{names[kind]} ({e.stem})",
            ref=refs[kind],
        )
        recon = latents.decode(model, latents.encode(model, x).mean)
        st.image(figures.image_grid(torch.cat([x, recon]), nrow=10, scale=2), caption="inputs / reconstructions")
        st.image(
            figures.image_grid(latents.decode(model, prior), nrow=10, scale=2),
            caption="samples: the same 10 prior draws z ~ N(0, I)",
        )
probe.record(compare_models=[e.path.stem for e in trio.values()])

st.subheader("What the measures say")
rows = {kind: section.measure(r) for kind, r in refs.items()}
for kind, e in trio.items():
    st.markdown(f"- **{names[kind]}**: " + section.verdict(e.kind, rows[kind]))
table = pd.DataFrame({names[k]: section.columns(r, d) for k, r in rows.items()})  # measures as rows: it fits
st.table(table)
st.caption(section.footnote(data_name))
