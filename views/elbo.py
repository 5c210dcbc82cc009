"""ELBO: one image, the two terms of its evidence lower bound, its gap to log p(x), and the estimators.

    log p(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) + KL(q(z|x) ‖ p(z|x))     (Kingma & Welling 2013, eqs. 1, 3)

At z = 2 every term is exact (the true posterior on a grid); above, the importance-weighted
bound stands in for log p(x). The report is computed in the background (ui/services/elbo.py)
and cached per model and image: picking another image never blocks the page.
"""

import streamlit as st

from ui.frame import context, url
from ui.sections import elbo as section
from ui.services import elbo
from vae_core.data import catalog

ctx = context.current()
noun = catalog.noun(ctx.data_name)
st.title("The ELBO of one image")
st.caption(
    f"For one {noun} x: log p(x) = ELBO + KL(q(z|x) ‖ p(z|x)), and ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) "
    "(Kingma & Welling 2013, eqs. 1 and 3). The encoder's Gaussian q is compared with the true posterior, "
    f"and with q*, the best Gaussian for this {noun} alone."
)
picked = section.pick_image(ctx)
section.mirror(picked)
if picked is None:
    url.stop()
model = ctx.model
if getattr(model.config, "arch", "") == "onnx":
    section.show_image(picked)
    st.info(elbo.ONNX_NOTE)
    url.stop()
job = elbo.request(ctx.ref, picked.id, model, picked.x, settings=elbo.SETTINGS)
elbo.follow(st.session_state, job)
if not job.future.done():
    section.show_image(picked)
    section.follow(job)
    url.stop()
report, error = elbo.result(job)
section.show_image(picked, report)
if error:
    st.error(error)
    url.stop()
if report.kind == "ae":
    section.autoencoder(report, noun)
    url.stop()
if report.kind == "kl":
    section.kl_only(report, noun)
left, right = section.wrapping_columns("elbo_report", [1.1, 1], gap="large")
with left:
    section.plane_column(report, noun)
    section.fit_details(report)
with right:
    section.numbers_column(report, noun)
