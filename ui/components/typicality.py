"""Notes on data a model was not trained on, measured (vae_core.analysis.typicality): an upload
or a drawing, and a dataset shown under a model of another.

Two measurements, each said with its numbers: the image's −ELBO as a percentile of held-out
images of the model's training data (far above them: unlike that data), and which dataset's
shipped VAE explains the image best (a likelihood alone misses some foreign images: a digit
is mostly black, easy to draw for a Fashion-MNIST model; the MNIST VAE still explains it far
better — a likelihood ratio between the data sets, after Ren et al. 2019).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.services import models
from vae_core.analysis.thresholds import BETTER_EXPLAINED_NATS, UNTYPICAL_SHARE
from vae_core.data import catalog

# torch, the measures and vae_core.analysis.typicality are imported in the functions: the Latent
# map imports this module, and its first draw must not wait for torch.


def _own(ctx) -> str | None:
    """The model's training dataset when it is here to measure against, else None."""
    own = ctx.entry.dataset
    return own if own in models.compatible_datasets(ctx.entry) else None


def image_note(ctx, x: np.ndarray, what: str) -> dict | None:
    """Under the Encode page's input: how typical `x` [1, C, H, W] is for ctx's model, and which
    data it looks like; returns the figures shown (None when they cannot be measured here)."""
    import torch

    from ui.services import measures
    from vae_core.analysis import typicality

    own = _own(ctx)
    if own is None:
        st.caption(
            f"{ctx.entry.stem}'s training data ({ctx.entry.dataset}) is not here: "
            f"how typical your {what} is cannot be measured."
        )
        return None
    reference, _ = measures.held_out_scores(models.ModelRef.of(ctx.entry, own), ctx.model)
    t = typicality.typicality(ctx.model, torch.from_numpy(np.asarray(x, np.float32)), torch.from_numpy(reference))[0]
    best, bounds = _best_explained(ctx, x, own)
    held = f"{t.n_reference:,} held-out {catalog.title(own)} {catalog.plural(own)}"
    line = (
        f"Its {t.measure} under {ctx.entry.stem} is **{t.value:.0f} nats**, above {t.share_below:.1%} of {held} "
        f"(their median: {t.reference_median:.0f} nats)."
    )
    foreign = best is not None and best != own
    if foreign:
        line += (
            f" The shipped {catalog.title(best)} VAE explains it better than the {catalog.title(own)} one by "
            f"**{bounds[own] - bounds[best]:.0f} nats** (−ELBO {bounds[best]:.0f} against {bounds[own]:.0f}): "
            f"it looks like {catalog.title(best)} data."
        )
    if t.untypical or foreign:
        st.warning(f"**Your {what} is unlike the data {ctx.entry.stem} was trained on.** " + line, icon="⚠️")
    else:
        st.caption(  # not a verdict: a likelihood cannot tell every foreign image (Nalisnick et al. 2019)
            f"Within the range of {ctx.entry.stem}'s training data by this measure: {line} No shipped dataset's "
            f"VAE explains it better by more than {BETTER_EXPLAINED_NATS:g} nats."
        )
    return {"value": t.value, "share_below": t.share_below, "untypical": t.untypical, "looks_like": best}


def _best_explained(ctx, x: np.ndarray, own: str) -> tuple[str | None, dict[str, float]]:
    """Which dataset's reference VAE gives x the lowest −ELBO, if it beats the own dataset's by
    BETTER_EXPLAINED_NATS; and each reference's −ELBO of x."""
    import torch

    from ui.services import measures
    from vae_core.analysis import typicality

    refs = measures.reference_refs(ctx.config.image_shape)
    if own not in refs or len(refs) < 2:
        return None, {}
    xt = torch.from_numpy(np.asarray(x, np.float32))
    bounds = {name: float(typicality.fit_scores(models.load_model(r)[0], xt)[0][0]) for name, r in refs.items()}
    best = min(bounds, key=bounds.get)
    return (best if bounds[own] - bounds[best] > BETTER_EXPLAINED_NATS else own), bounds


def data_note(ctx) -> None:
    """When the shown dataset is not the model's training data: say so, with what was measured."""
    own, shown = _own(ctx), ctx.data_name
    if own is None or catalog.title(shown) == catalog.title(own):
        return
    import torch

    from ui.services import measures
    from vae_core.analysis import typicality

    reference, name = measures.held_out_scores(models.ModelRef.of(ctx.entry, own), ctx.model)
    values, _ = measures.held_out_scores(ctx.ref, ctx.model)  # the shown dataset's held-out images
    share = typicality.share_untypical(torch.from_numpy(values), torch.from_numpy(reference))
    text = (
        f"**{ctx.entry.stem} was trained on {catalog.title(own)}; these are {catalog.title(shown)} "
        f"{catalog.plural(shown)}.** Measured on {len(values):,} of them: median {name} "
        f"{np.median(values):.0f} nats against {np.median(reference):.0f} on {catalog.title(own)}'s held-out "
        f"{catalog.plural(own)}; {share:.0%} are above {UNTYPICAL_SHARE:.0%} of those."
    )
    if share < 0.5:
        text += (
            " A likelihood alone does not flag them here (foreign data can score as well or better, "
            "Nalisnick et al. 2019): the map still shows codes of data the model never saw."
        )
    st.warning(text, icon="⚠️")
