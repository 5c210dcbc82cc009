"""Sample: decode draws from the prior and from densities fitted to the codes, and judge them."""

import streamlit as st

from ui.components import linked, panels
from ui.frame import context
from ui.render import figures
from ui.services import latents, measures
from vae_core.data import catalog

ctx = context.current()
ref, model, data_name = ctx.ref, ctx.model, ctx.data_name
st.title("Sample")
noun = catalog.noun(data_name)
st.caption(
    f"A VAE is trained so that draws from the prior N(0, I) decode to {noun}s. Any model — an autoencoder "
    "too — can also be sampled from a density fitted to its codes after training (ex-post density "
    f"estimation, Ghosh et al. 2020): one Gaussian, or a mixture of ten. A classifier trained on real "
    f"{noun}s of the training split judges each source."
)
c1, c2 = st.columns([1, 3])
seed = linked.number(c1, "Draw", 0, 10_000, 0, key="sample_seed", name="seed", help="Another number: other samples.")
mean, logvar = latents.codes(ref)

cols = st.columns(3)
for col, (source, words) in zip(cols, measures.SOURCES.items(), strict=True):
    z = measures.draw(ref, source, 40, mean, seed=int(seed) + 1)
    with col:
        st.markdown(f"**{words}**")
        st.image(figures.image_grid(latents.decode(model, z), nrow=8, scale=2), width="stretch")
        st.caption(panels.sample_line(measures.sample_quality(ref, source, model, mean), "it"))
scale = measures.code_scale(ref, mean, logvar)
st.markdown(
    "The codes' spread per dimension (the prior's is 1): "
    + ", ".join(f"{s:.2g}" for s in scale["aggregate_std"][:16])
    + (" …" if len(scale["aggregate_std"]) > 16 else "")
    + ". Where it is far from 1, N(0, I) draws fall where the decoder saw few codes (or only a few classes), "
    "and a fitted density samples better."
)
