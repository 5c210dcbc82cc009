"""The Traverse page's sections: the manifold grid, one slider per dimension, attribute directions.

Grid and sliders are decoded in the browser (ui.livemap: an MLP's weights or any other model's
ONNX graph sent once, every slider move redrawn there without a rerun); where the live map is
off, cannot run, or this browser cannot run the decoder, the server decodes and the page shows
images, with one note saying why.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

import ui.livemap as lm
from ui import settings
from ui.components import linked, notes, panels
from ui.frame import probe, url
from ui.render import figures
from ui.services import data, latents, map_assets, measures
from vae_core.analysis import directions, latent
from vae_core.data import catalog
from vae_core.data.attributes import UNITS, measure

SLIDER_BOUND = 4.0  # the sliders' range, ± (ui.livemap.slider_decoder's and the server sliders')


def decoder(ctx):
    """The browser's decoder for the grid and the sliders, or None where the server decodes: the
    live map off, a decoder the browser cannot be given, or one this browser said it cannot run
    (then one note, above the tabs, says why)."""
    if not settings.live_map():
        return None
    asset, why = map_assets.browser_decoder(ctx.ref)
    if asset is None:
        notes.once(f"Decoded on the server: {why}")
    elif unavailable := lm.decoder_unavailable(asset):
        notes.once(lm.decoder_note(unavailable))
        return None
    return asset


def grid(ctx, dec, base: np.ndarray, names: list[str], order: list[int]) -> None:
    c1, c2, c3 = st.columns(3)
    # Keyed by the model: its dimensions and their KL are not another model's.
    a = linked.select(c1, "Rows vary", order, key=ctx.widget_key("grid_a"), name="rows", format_func=names.__getitem__)
    rest = [j for j in order if j != a]
    b = linked.select(
        c2, "Columns vary", rest, key=ctx.widget_key("grid_b"), name="cols", format_func=names.__getitem__
    )
    n = linked.slider(c3, "Grid size", 5, 25, 15, key="grid_n", name="grid")
    c1, c2 = st.columns(2)
    modes = {"quantile": "prior quantiles", "sigma": "σ units"}
    mode = linked.segmented(
        c1, "Range", modes, key="grid_mode", name="range", default="quantile", format_func=modes.get
    )
    if mode == "quantile":
        span = linked.slider(c2, "Quantiles from 1−q to q", 0.80, 0.999, 0.95, 0.005, key="grid_q", name="q")
    else:
        span = linked.slider(c2, "± σ", 0.5, 5.0, 2.5, 0.25, key="grid_s", name="s")
    values = latent.grid_values(n, span, mode)
    caption = (
        f"{names[a]} from top {values[-1]:.2f} to bottom {values[0]:.2f}; {names[b]} left to right. "
        "For z = 2 this is the whole plane, as in Kingma & Welling's Figure 4."
    )
    z = latent.manifold_grid(torch.from_numpy(base), (a, b), values)
    if dec is not None:
        event = lm.grid_decoder(
            dec,
            map_assets.store(),
            base,
            (a, b),
            values.numpy(),
            key=ctx.widget_key("grid"),
            caption=caption,
            axes=(names[a], names[b]),
        )
        if not event.fallback:
            return panels.image_downloads(latents.decode(ctx.model, z), n, f"{ctx.entry.stem}-grid", key="grid_dl")
        notes.once(event.reason)
    images = latents.decode(ctx.model, z)
    probe.record(traverse_shape=list(images.shape[1:]))
    st.image(figures.image_grid(images, nrow=n, scale=2, padding=1), caption=caption)
    panels.image_downloads(images, n, f"{ctx.entry.stem}-grid", key="grid_dl")


def sliders(ctx, dec, base: np.ndarray, names: list[str], order: list[int], key: str) -> None:
    st.caption(
        "Dimensions ordered by their KL: the informative ones come first. "
        "Dimensions with KL near 0 are inactive: the decoder ignores them."
    )
    shared = url.code(len(base), SLIDER_BOUND)  # a link's slider positions: they become the start
    if shared is not None:
        st.session_state[f"{key}_start"] = st.session_state[f"{key}_z"] = shared
    start = np.asarray(st.session_state.get(f"{key}_start", base), np.float32)
    if dec is not None:
        event = lm.slider_decoder(dec, map_assets.store(), start, key=key, order=order, names=names)
        if not event.fallback:
            if event.z is not None:
                st.session_state[f"{key}_z"] = event.z.tolist()
                probe.record(traverse_z=event.z.tolist())
            url.put(z=url.Vector(len(base), SLIDER_BOUND).text(st.session_state.get(f"{key}_z", base)))
            return traversal_export(ctx, base, names, order)
        notes.once(event.reason)
    server_sliders(ctx, base, names, order, key)
    traversal_export(ctx, base, names, order)


@st.fragment
def server_sliders(ctx, base: np.ndarray, names: list[str], order: list[int], key: str) -> None:
    """Slider and image in one fragment: moving a slider reruns only this, never the page."""
    left, right = st.columns([3, 2])
    z = base.copy()
    with left:
        cols = st.columns(2)
        for k, j in enumerate(order):
            lo, hi = -SLIDER_BOUND, SLIDER_BOUND
            z[j] = cols[k % 2].slider(names[j], lo, hi, float(np.clip(base[j], lo, hi)), 0.05, key=f"{key}_{j}")
    image = latents.decode(ctx.model, z[None])
    probe.record(traverse_image=image.numpy().round(4).tobytes())
    right.image(figures.to_pil(image[0], 280), caption="decoded from the sliders' z")
    if st.button("Reset to start", key=f"{key}_reset"):
        for j in order:
            st.session_state.pop(f"{key}_{j}", None)
        st.rerun(scope="fragment")


def traversal_export(ctx, base: np.ndarray, names: list[str], order: list[int]) -> None:
    """One dimension swept from -3 to 3 from the start code, as a GIF or a PNG strip."""
    with st.expander("Export a traversal"):
        j = linked.select(
            st, "Dimension", order, key=ctx.widget_key("trav_export"), name="export", format_func=names.__getitem__
        )
        z = latent.traversal(torch.from_numpy(base), j, torch.linspace(-3, 3, 13))
        images = latents.decode(ctx.model, z)
        st.image(figures.image_grid(images, nrow=13, scale=2), caption=f"{names[j]} from −3 to 3")
        panels.image_downloads(images, 13, f"{ctx.entry.stem}-z{j + 1}", key="trav_dl")


def attribute_edit(ctx, base: np.ndarray) -> None:
    """Move the start code along the latent direction of a shape attribute ("make this 7 thicker")."""
    dirs = measures.attribute_directions(ctx.ref, ctx.model)
    c1, c2 = st.columns(2)
    offered = [a for a in dirs.names if a in catalog.attributes(ctx.data_name)]  # no slant for a shirt
    name = linked.select(c1, "Attribute", offered, key="dir_attr", name="attr")
    row = dirs.names.index(name)
    sd = float(dirs.attr_std[row])
    amount = linked.slider(
        c2, f"Change ({UNITS[name]})", 0.5 * sd, 3 * sd, 2 * sd, sd / 10, key=f"dir_amount_{name}", name="amount"
    )
    deltas = torch.linspace(-amount, amount, 9)
    z = dirs.traverse(torch.from_numpy(base).double(), name, deltas).float()
    images = latents.decode(ctx.model, z)
    got = measure(images)[name].numpy()
    st.image(figures.image_grid(images, nrow=9, scale=3), width="stretch")
    r2 = dirs.r2_val[row] if dirs.r2_val else dirs.r2_train[row]
    st.caption(
        f"{name} from −{amount:.2g} to +{amount:.2g} {UNITS[name]} along its latent direction (least squares on the "
        f"training codes{_fitted_on(dirs)}; validation R² = {r2:.2f}). Measured on the decoded images: "
        + " → ".join(f"{v:.1f}" for v in got)
        + f" {UNITS[name]}."
    )
    panels.image_downloads(images, 9, f"{ctx.entry.stem}-{name}", key="dir_dl")


def _fitted_on(dirs) -> str:
    used, n = dirs.fitted_on
    return f" of a fixed random {used:,} of the {n:,} images" if used < n else ""


def class_arithmetic(ctx, base: np.ndarray, source: int) -> None:
    """Move the start code from its class's mean toward another class's mean: z + α (m_to − m_from)."""
    _, labels, classes = data.map_arrays(ctx.data_name)
    mean, _ = latents.codes(ctx.ref)
    means = directions.class_means(torch.from_numpy(mean), torch.from_numpy(labels), len(classes))
    others = [c for c in range(len(classes)) if c != source]
    target = linked.select(
        st,
        f"From class {classes[source]} toward",
        others,
        key="dir_target",
        name="toward",
        format_func=classes.__getitem__,
    )
    z = directions.toward_class(torch.from_numpy(base), source, target, means, steps=9)
    images = latents.decode(ctx.model, z)
    st.image(figures.image_grid(images, nrow=9, scale=3), width="stretch")
    st.caption(f"z + α (mean of {classes[target]} − mean of {classes[source]}), α from 0 to 1.")
    panels.image_downloads(images, 9, f"{ctx.entry.stem}-{source}-to-{target}", key="arith_dl")
