"""β sweep: rate against distortion for every model of a sweep (Alemi et al. 2018, "Fixing a Broken ELBO").

−ELBO = rate + distortion: the KL term (nats the code carries about x) plus the reconstruction
term. β trades one for the other. β = 0 is the autoencoder end (a noisy one), large β
approaches the KL-only end; the Compare page shows this continuum in three points.
"""

import streamlit as st

from ui.components import linked
from ui.frame import context, url
from ui.render import sweep_chart
from ui.sections import sweep as section

st.title("β sweep")
st.caption(
    "Each point is a VAE trained with KL weight β on the same data and network. Rate is the KL "
    "(how many nats the code keeps about each image), distortion the reconstruction term; −ELBO is their "
    "sum, so the dotted lines, labelled with it, join models of equal ELBO. Click a point to open that model "
    "on the Latent map."
)
found = section.folders()
if not found:
    st.info(
        "No sweep here yet: `python -m vae_core.sweep --beta 0 0.5 1 2 --latent-dim 2 "
        "--out-dir user_models/sweep-mine`."
    )
    url.stop()
by_label = {label: path for path, label in found.items()}  # the URL names a sweep by its label, never by a path
folder = by_label[linked.select(st, "Sweep", by_label, key="sweep_folder", name="sweep")]
rows, unusable = section.rows(folder)
if unusable:
    st.warning(unusable)
if not rows:
    st.info("This sweep has no finished point yet." if not unusable else "No point of this sweep can be shown.")
    url.stop()
event = st.plotly_chart(
    sweep_chart.rate_distortion(rows), on_select="rerun", selection_mode="points", key=f"sweep_chart_{folder}"
)
frame = section.table(rows)
st.dataframe(
    frame.style.format(precision=3),
    hide_index=True,
    column_config={"file": st.column_config.TextColumn(width="large")},
)
picked = section.picked(event, rows, folder)
if picked is not None:
    context.open_model(picked)
    st.switch_page("views/latent_map.py")
st.caption(
    "IW-NLL: importance-weighted bound with K samples ('not finite (σ → 0)' where the posteriors are so narrow "
    "that the estimate overflows: the β = 0 end). Samples named: share of N(0, I) samples the dataset's "
    "classifier names with confidence ≥ 0.5; entropy of their classes (log 10 = 2.30: all equally)."
)
