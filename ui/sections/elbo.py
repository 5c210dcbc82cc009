"""The ELBO page's sections: which image, the progress while its report is computed, and the
report itself (the latent plane on the left, the numbers and the estimators on the right).

The report comes from ui/services/elbo.py (computed in the background, cached per model and
image); the figures and words from ui/render/elbo_plots.py and elbo_terms.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from ui.components import widgets
from ui.frame import probe, url
from ui.render import elbo_plots as plots
from ui.render import elbo_terms as words
from ui.render import figures
from ui.services import data
from vae_core.data import catalog

SPLITS = ("train", "val")
DEFAULT = ("val", 1)  # validation digit 1 of mnist5k: a 0 whose encoder sits ~4σ from its posterior
STAGES = {
    "log p(x)": "log p(x) by quadrature",
    "posterior": "the posterior on a grid",
    "q*": "fitting q*",
    "samples": "the samples z_l",
    "curves": "the L and K curves",
    "gradients": "the gradient variances",
    "queued": "waiting for the worker",
    "starting": "starting",
}


@dataclass(frozen=True)
class Picked:
    """The image the page explains: its identity (the cache key), pixels, and how to name it."""

    id: str  # "mnist5k/val/1" or "upload/<sha1 of the prepared pixels>"
    x: np.ndarray  # [1, C, H, W] in [0, 1]
    caption: str
    link: str | None  # the URL's image=... ("val:1"); None for an upload


# Streamlit's columns stack only below a 640 px viewport; with the sidebar open an 800 px window
# leaves the page ~420 px, and two columns of ~200 px clip the picker and crush the waterfall's
# labels. So the page's column rows wrap when a column would be narrower than MIN_COLUMN.
MIN_COLUMN = "22rem"


def wrapping_columns(key: str, spec, **kwargs):
    """st.columns(spec) in a container keyed `key`, whose columns wrap onto rows below MIN_COLUMN."""
    st.html(
        f'<style>.st-key-{key} [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; }}'
        f' .st-key-{key} [data-testid="stColumn"] {{ min-width: min(100%, {MIN_COLUMN}); }}</style>'
    )
    with st.container(key=key):
        return st.columns(spec, **kwargs)


def index_key(data_name: str, split: str) -> str:
    return f"elbo_i_{split}@{data_name}"


def restore(data_name: str) -> None:
    """Before the pickers are drawn: a link's image (the URL's image=split:index, e.g. from the
    Latent map's "See its ELBO"), when it differs from what this page last showed; else the
    session's last choice (Streamlit forgets a widget's value while another page is shown)."""
    wanted = st.query_params.get("image")
    if wanted and wanted != st.session_state.get("_elbo_url"):
        st.session_state["_elbo_url"] = wanted
        split, _, index = wanted.partition(":")
        try:
            i = int(index)
            n = len(data.dataset(data_name, split)) if split in SPLITS else 0
        except ValueError:
            i, n = -1, 0
        if 0 <= i < n:
            st.session_state["elbo_source"] = split
            st.session_state[index_key(data_name, split)] = i
            return
        st.warning(f"The link's image ({wanted[:40]!r}) is not an image here; showing the last one picked.")
    last_split, last_i = st.session_state.get("_elbo_last", DEFAULT)
    st.session_state.setdefault("elbo_source", last_split)
    for split in SPLITS:
        st.session_state.setdefault(index_key(data_name, split), last_i if split == last_split else 0)


def mirror(picked: Picked | None) -> None:
    """The URL shows the image (not an upload); what was put is remembered, so only a new link
    (another value in the URL) moves the pickers."""
    link = picked.link if picked else None
    url.put(image=link)
    st.session_state["_elbo_url"] = link


def pick_image(ctx) -> Picked | None:
    """A training or validation image by index, or an upload; None (with a note) until there is one."""
    data_name = ctx.data_name
    noun = catalog.noun(data_name)
    restore(data_name)
    labels = {"train": f"training {noun}", "val": f"validation {noun}", "upload": "your upload"}
    c1, c2 = wrapping_columns("elbo_pick", [3, 2], vertical_alignment="bottom")
    source = c1.segmented_control("Explain", list(labels), format_func=labels.get, key="elbo_source") or "val"
    if source == "upload":
        return _upload(ctx, noun, c2)
    d = data.dataset(data_name, source)
    key = index_key(data_name, source)
    if not 0 <= st.session_state.get(key, 0) < len(d):  # another dataset's split was longer
        st.session_state[key] = 0
    i = int(c2.number_input(f"{labels[source].capitalize()} # (0–{len(d) - 1:,})", 0, len(d) - 1, key=key))
    st.session_state["_elbo_last"] = (source, i)
    name = d.classes[int(d.labels[i])]
    split_name = "training" if source == "train" else "validation"
    caption = f"{catalog.title(data_name)} {split_name} {noun} #{i} · class {name}"
    probe.record(elbo_image=f"{data_name}/{source}/{i}")
    return Picked(f"{data_name}/{source}/{i}", d.images[i : i + 1].numpy(), caption, f"{source}:{i}")


def _upload(ctx, noun: str, col) -> Picked | None:
    if tuple(ctx.config.image_shape) != (1, 28, 28):
        col.info("Uploads are prepared as 28×28 images; this model takes another size. Pick a dataset image.")
        return None
    with col:
        up = widgets.upload_digit("elbo_upload", f"A photo, scan or PNG of one {noun}")
    if up is None:
        st.info(f"Upload an image, or explain a training or validation {noun}.")
        return None
    digest = hashlib.sha1(np.ascontiguousarray(up.x, dtype=np.float32).tobytes()).hexdigest()[:16]
    probe.record(elbo_image=f"upload/{digest}")
    return Picked(f"upload/{digest}", up.x, f"your upload, prepared like a {noun} of the training data", None)


def show_image(picked: Picked, report=None) -> None:
    """The image, and once the report is there, its reconstruction (the decoder at μ(x))."""
    row = st.container(horizontal=True, key="elbo_images")  # side by side at their own width, at any width
    row.image(figures.to_pil(picked.x[0], 112), caption=picked.caption, width=140)
    if report is not None:
        row.image(figures.to_pil(report.reconstruction, 112), caption="reconstruction (decoder at μ(x))", width=140)


def follow(job, key: str = "elbo_progress") -> None:
    """A progress bar from the report's own progress callback; reruns the page when it is done."""

    @st.fragment(run_every=0.5)
    def bar():
        if job.future.done():
            st.rerun(scope="app")
        last = STAGES.get(job.stage, job.stage)
        done = f"{job.done} of {job.total} stages done (last: {last})" if job.total else last
        st.progress(job.share, text=f"Computing this image's ELBO report in the background: {done}.")

    with st.container(key=key):
        bar()


def autoencoder(r, noun: str) -> None:
    st.metric("log p(x | z = code)", f"{words.fmt(r.log_lik_at_mean)} nats")
    st.markdown(words.autoencoder_text(r, noun))
    st.info(r.unavailable.get("elbo", ""))
    probe.record(elbo_kind="ae", elbo_log_lik_at_mean=words.shown(r.log_lik_at_mean))


def kl_only(r, noun: str) -> None:
    st.info(words.kl_only_text(r, noun))


def plane_column(r, noun: str) -> None:
    """Left: the latent plane (D = 2) or q and q* per dimension (D > 2), then the decoded samples."""
    if r.exact:
        st.subheader("The latent plane of this " + noun)
        st.plotly_chart(plots.plane(r), key="elbo_plane")
        st.caption(
            "Blue: the true posterior p(z|x) ∝ p(x|z) p(z) on a grid, with the contours holding 39 % and 86 % "
            "of its mass (a 2-D Gaussian's 1σ and 2σ). Red: the encoder's q(z|x), 1σ and 2σ. Green, dashed: "
            f"q*(z|x), the Gaussian fitted to this {noun} alone (started from {r.q_star_start}). Grey dots: the "
            "prior's 1σ and 2σ circles. Numbered points: draws z_l from q, decoded below."
        )
    else:
        st.subheader("q and q*, dimension by dimension")
        st.info(r.unavailable.get("posterior", "The exact posterior needs a 2-D latent."))
        st.plotly_chart(plots.dimensions(r), key="elbo_dims")
        st.caption(
            f"μ ± σ of the encoder's q(z|x) and of q*(z|x), the Gaussian fitted to this {noun} alone, for the "
            f"{min(r.latent_dim, plots.MAX_DIMENSIONS)} dimensions with the most KL to the prior."
        )
    samples(r)


def samples(r) -> None:
    s = r.samples
    st.markdown(f"**{len(s.z)} draws z_l ~ q(z|x), decoded**, each with log p(x|z_l) (nats)")
    pics = [figures.to_pil(img, 84) for img in s.images]
    st.image(pics, caption=[f"z_{i + 1}: {words.fmt(v)}" for i, v in enumerate(s.log_lik)], width=84)
    st.caption(
        "The reconstruction term E_q[log p(x|z)] is the average of such values over all of q "
        "(Kingma & Welling 2013, eq. 3); L of them give the estimator ELBO_L (eq. 7)."
    )


def numbers_column(r, noun: str) -> None:
    """Right: the identity as a waterfall and as sums, each number explained, then the estimators."""
    st.subheader("log p(x) = ELBO + gap, term by term")
    st.plotly_chart(plots.waterfall(r), key="elbo_waterfall")
    with st.container(key="elbo_identity"):
        for line in words.identity_text(r):
            st.markdown(line)
    t, why = words.terms(r), words.explanations(r, noun)
    lines = [f"- **{t[k].name}**, {t[k].symbol} = **{words.fmt(t[k].value)}** nats. {why[k]}" for k in why]
    st.markdown("\n".join(lines))
    probe.record(
        elbo_kind=r.kind,
        elbo_exact=r.exact,
        elbo_terms={k: words.shown(v.value) for k, v in t.items()},
        elbo_identity=words.identity_rows(r),
    )
    st.subheader("Estimating it: L and K samples")
    st.plotly_chart(plots.curves(r), key="elbo_curves")
    st.markdown(words.curves_text(r))
    st.subheader("Gradients: reparameterised vs score function")
    st.plotly_chart(plots.gradients(r), key="elbo_gradients")
    st.markdown(words.gradient_text(r))
    probe.record(elbo_gradient_ratio=[float(v) for v in r.gradients.ratio])


def fit_details(r) -> None:
    with st.expander("How q* was fitted"):
        st.plotly_chart(plots.fit_trace(r), key="elbo_fit")
        how = (
            "on the posterior's grid (exact ELBO), from three starts: the encoder's q, the posterior's moments "
            "and a Laplace fit at its mode"
            if r.exact
            else "by stochastic gradient ascent on its Monte-Carlo ELBO, from the encoder's q"
        )
        st.caption(f"q* maximises this image's own ELBO over μ and log σ² {how}; the best start: {r.q_star_start}.")
