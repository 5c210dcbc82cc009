"""Sample: decode draws from the prior and from densities fitted to the codes, and judge them."""

import streamlit as st

from ui.components import linked, panels, widgets
from ui.frame import context, probe
from ui.render import figures, labelled, lesson_text
from ui.services import data, latents, measures
from vae_core.analysis.thresholds import LOW_CONFIDENCE
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
seed = linked.number(
    c1,
    "Seed",
    0,
    10_000,
    0,
    key="sample_seed",
    name="seed",
    help="The random seed of the 30 draws per source: another seed, other samples.",
)
mean, logvar = latents.codes(ref)
classes = data.map_arrays(data_name)[2]
if measures.judge_for(data_name) is None:
    why = (
        f"{catalog.title(data_name)} is your own image folder, and classifiers ship only for the named datasets "
        "(trained once by scripts, not on demand here)"
        if data_name.startswith(catalog.FOLDER_PREFIX)
        else f"no classifier was trained for {catalog.title(data_name)}"
    )
    st.info(f"No classifier judges these samples: {why}. The samples are shown unjudged.")

row = widgets.cards("sample_cards")
for source, words in measures.SOURCES.items():
    z = measures.draw(ref, source, 30, mean, seed=int(seed) + 1)
    images = latents.decode(model, z)
    probs = measures.classify(ref, images)
    with row.container(width=widgets.CARD_PX, key=f"sample_card_{source}"):
        st.markdown(f"**{words}**")
        if probs is None:
            st.image(figures.image_grid(images, nrow=8, scale=2), width="stretch")
        else:  # each sample with the classifier's class and confidence (amber: below LOW_CONFIDENCE, unnamed)
            names, doubt = labelled.class_labels(probs, classes, LOW_CONFIDENCE)
            st.image(labelled.labelled_grid(images, names, doubt, nrow=5), width="stretch", output_format="PNG")
            probe.record(**{f"sample_labels_{source}": names})
        st.caption(panels.sample_line(measures.sample_quality(ref, source, model, mean), "it"))
scale = measures.code_scale(ref, mean, logvar)
st.markdown(
    f"This model's {lesson_text.spread(scale)}: the standard deviation of the codes' distribution q(z), "
    "√(Var μ + E σ²) in each dimension (for more than two dimensions, the lowest–highest). Where it is far "
    "from 1, N(0, I) draws fall where the decoder saw few codes (or only a few classes), and a fitted density "
    "samples better."
)
