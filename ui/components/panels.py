"""Page sections shared by several pages: what is selected on a map, and its downloads.

Nothing here needs torch until a selection asks for a reconstruction: the Latent map's first
draw (ui/services/first_map.py) must not wait for it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui import settings
from ui.components import linked
from ui.frame import probe, url
from ui.render import exports, figures, lesson_text
from ui.render.montage import montage_html
from ui.services import data, latents
from vae_core.data import catalog

MONTAGE_MAX = 120  # images drawn for a large selection, evenly spaced (the counts and exports cover all of it)


def selection(ctx, mean: np.ndarray, logvar: np.ndarray, proj, indices: list[int], key: str) -> None:
    """One point: the digit, its reconstruction and latent neighbours. Many: a montage and the
    count per class. Both: downloads of the selection's codes."""
    if len(indices) == 1:
        point(ctx, mean, indices[0])
    else:
        montage(ctx.data_name, indices)
    downloads(ctx, mean, logvar, proj, indices, key)


def point(ctx, mean: np.ndarray, i: int) -> None:
    images, labels, classes = data.map_arrays(ctx.data_name)
    recon = latents.decode(ctx.model, mean[i : i + 1])
    d2 = ((mean - mean[i]) ** 2).sum(1)
    near = np.argpartition(d2, min(9, len(d2) - 1))[:9]  # a million codes: no full sort for nine of them
    nearest = near[np.lexsort((near, d2[near]))][1:9]  # itself first, then 8 neighbours
    cols = st.columns([1, 1, 4])
    cols[0].image(figures.to_pil(images[i]), caption=f"#{i} · class {classes[int(labels[i])]}")
    cols[1].image(figures.to_pil(recon[0]), caption="reconstruction (decoder at μ)")
    cols[2].image(figures.image_grid(images[nearest], nrow=8), caption="8 nearest neighbours in latent space")
    cols[0].page_link("views/elbo.py", label="See its ELBO", query_params=url.link(ctx, image=f"train:{i}"))


def montage(data_name: str, indices: list[int]) -> None:
    images, labels, classes = data.map_arrays(data_name)
    counts = np.bincount(labels[indices], minlength=len(classes))
    shown = indices[:: -(-len(indices) // MONTAGE_MAX)][:MONTAGE_MAX]  # evenly through the selection
    noun = catalog.noun(data_name)
    st.markdown(
        f"**{len(indices):,} {noun}s selected** · "
        + " · ".join(f"{classes[c]}: {n}" for c, n in enumerate(counts) if n)
    )
    more = f" ({len(shown)} of them, evenly spaced)" if len(indices) > MONTAGE_MAX else ""
    titles = [f"#{i} · {classes[int(labels[i])]}" for i in shown]
    st.html(montage_html(images[shown], titles))  # tiles that wrap to the column, whatever its width
    st.caption(f"the selected {noun}s{more}")


def downloads(ctx, mean, logvar, proj, indices: list[int] | None, key: str) -> None:
    """CSV and NPZ of index, label, map position, μ and σ per dimension: for the selection (when
    there is one) and for the whole set. Built only when clicked."""
    _, labels, classes = data.map_arrays(ctx.data_name)
    stem = f"{ctx.entry.stem}-{ctx.data_name}-{proj.method}"

    def table(rows):
        return exports.code_table(rows, mean, logvar, proj.embedding, labels, classes, proj.axis_labels)

    parts = [("selection", np.asarray(indices, np.int64))] if indices else []
    parts.append(("all", np.arange(len(labels))))
    formats = (("csv", exports.to_csv, "text/csv"), ("npz", exports.to_npz, "application/octet-stream"))
    cols = iter(st.columns(len(formats) * len(parts)))
    for what, rows in parts:
        for ext, encode, mime in formats:
            next(cols).download_button(
                f"{ext.upper()} · {what} ({len(rows):,})",
                lambda rows=rows, encode=encode: encode(table(rows)),
                f"{stem}-{what}.{ext}",
                mime,
                key=f"{key}_{ext}_{what}",
                on_click="ignore",
            )


def sample_line(q: dict | None, what: str) -> str:
    """One sentence on a sampler's quality, as the classifier judged it."""
    if q is None:
        return f"No classifier ships for this dataset, so samples from {what} are not judged."
    return (
        f"Of {q['n']:,} samples from {what}, the classifier cannot name **{q['low_confidence']:.0%}** "
        f"(confidence < 0.5); the classes they show have entropy **{q['class_entropy']:.2f}** "
        f"of a possible {q['max_entropy']:.2f} (every class equally often)."
    )


def prior_report(ctx, mean, logvar, samples: bool, holes: bool) -> None:
    """What the prior's samples and holes say about this model, measured, in words."""
    from ui.services import measures  # torch and the measures: only once a toggle asks for them

    ref, lines = ctx.ref, []
    if samples:
        prior = measures.sample_quality(ref, "prior", ctx.model, mean)
        lines.append(sample_line(prior, "N(0, I)"))
        scale = measures.code_scale(ref, mean, logvar)
        spread = lesson_text.typical_spread(scale)
        if spread > 2 or spread < 0.5:  # the prior's scale does not fit this model's codes
            fitted = measures.sample_quality(ref, "gaussian", ctx.model, mean)
            where = "a small part of its cloud" if spread > 2 else "around a cloud much smaller than the prior"
            lines.append(
                f"This model's {lesson_text.spread(scale)}: N(0, I) draws land in {where}, a mismatch of scale "
                "(whether it also leaves holes is measured by the Prior holes toggle). "
                + sample_line(fitted, "a Gaussian fitted to its codes")
            )
    if holes:
        from ui.services import prior_holes, tasks

        try:
            lines.append(lesson_text.holes_sentence(prior_holes.holes(ref, mean, logvar)))
        except tasks.Pending as p:  # minutes at z > 2: the map stays; the figure comes with a later rerun
            lines.append(f"{p.task.title}: {p.task.state} in the background; the figure shows here once it is done.")
    st.info("\n\n".join(lines))


def image_downloads(images, nrow: int, stem: str, key: str) -> None:
    """A sequence of decoded images as an animated GIF and as a PNG strip (built when clicked)."""
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(
        "GIF", lambda: exports.gif(images), f"{stem}.gif", "image/gif", key=f"{key}_gif", on_click="ignore"
    )
    c2.download_button(
        "PNG strip",
        lambda: exports.png_strip(images, nrow=nrow),
        f"{stem}.png",
        "image/png",
        key=f"{key}_png",
        on_click="ignore",
    )


def view_3d(ctx, mean: np.ndarray, logvar: np.ndarray, labels: np.ndarray, classes) -> None:
    """The codes in three dimensions: native (the three highest-KL axes), PCA or UMAP."""
    d = mean.shape[1]
    if d < 3:
        st.caption(
            f"{ctx.entry.stem} has {d} latent dimensions: its native 2-D map (Projection: native) is the whole space."
        )
        return
    names = {"native": "native (3 highest-KL axes)", "pca": "PCA", "umap": "UMAP (3 components)"}
    method = linked.segmented(
        st, "3-D view", names, key=ctx.widget_key("map_3d"), name="3d_view", default="pca", format_func=names.get
    )
    if method == "umap" and len(mean) > settings.MAX_3D_POINTS:
        st.caption(f"UMAP is fitted to a random {settings.MAX_3D_POINTS:,} of the {len(mean):,} codes.")
    idx, xyz, axes = latents.embed_3d(ctx.ref, method, mean, logvar)
    if len(idx) < len(mean):
        st.caption(f"Showing a fixed random {len(idx):,} of the {len(mean):,} codes (a 3-D scatter stays fluid).")
    st.plotly_chart(figures.latent_scatter_3d(xyz, labels[idx], classes, axes), key=ctx.widget_key("map_3d_fig"))
    probe.record(map_3d_shown=(method, len(idx)))
