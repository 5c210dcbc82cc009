"""The prior's holes as the pages show them: the same figures as the README's lesson table.

Where the aggregate posterior q(z) is below a tenth of the prior (vae_core.analysis.holes):
- up to two dimensions, q is exact (the mixture of the posteriors; a KDE for an autoencoder's
  point codes): prior_holes, and the same estimator's share when q is the prior (its floor);
- beyond, the exact mixture of a few thousand narrow posteriors is empty space whatever the
  model (its floor is ~100 %), so q is smoothed by K-component mixtures fitted to draws from it,
  K chosen by held-out likelihood (vae_core.analysis.mixture_holes.holes_over_k): the chosen K's
  share, its floor, and the shares over the Ks next to it.
Both are called exactly as scripts/lesson_table.py calls them (a fresh generator seeded with
SEED), so a page and the README print one value. The mixtures take half a minute for a 16-D
model here, so their result is also kept on disk, by the checkpoint's content.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui import settings
from ui.services import tasks
from ui.services.models import ModelRef
from ui.services.subsample import few, from_few
from vae_core.analysis import holes as hole_measures
from vae_core.io.atomic import atomic_write

SEED = 0  # scripts/lesson_table.py's default --seed: the README's figures
SIGMA = 3.0  # the overlay is drawn inside this radius of the prior (99 % of N(0, I_2)'s mass lies within 3σ)
GRID = 160  # cells per side of the overlay (the browser smooths between them)


def holes(ref: ModelRef, mean: np.ndarray, logvar: np.ndarray) -> dict:
    """{share, se, floor, density, k, near, range, at_edge}: the share of the prior's mass in holes
    (on a big map, from subsample.few's codes: the density says so). Up to z = 2 at once; beyond,
    the mixtures over K take minutes on two cores, so they run on the board's fit lane (the page
    follows them: tasks.Pending) and are kept on disk."""
    if mean.shape[1] <= 2:
        return _exact(ref, mean, logvar)
    path = _disk_path(ref)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    board, key = tasks.board(), ("holes", ref)
    title = f"Measuring the prior's holes under {Path(ref.path).stem} (mixtures of 1 to 50 components; once, then kept)"
    task = board.submit(key, key, "fit", title, _over_k(path, mean, logvar))
    if task.state == "done" and task.result is not None:
        board.forget(key)
        return task.result
    raise tasks.Pending(task)


@st.cache_data(max_entries=32, show_spinner="Measuring the prior's holes…")
def _exact(ref: ModelRef, _mean, _logvar) -> dict:
    mean, logvar = (torch.from_numpy(a) for a in few(_mean, _logvar))
    h = hole_measures.prior_holes(mean, logvar, torch.Generator().manual_seed(SEED))
    return {"share": h.share, "se": h.se, "floor": h.floor, "density": h.density + from_few(len(_mean)), "k": None}


def _over_k(path, _mean, _logvar):
    def work(task):
        from vae_core.analysis.mixture_holes import holes_over_k

        task.report("fit", 0, 1)
        mean, logvar = (torch.from_numpy(a) for a in few(_mean, _logvar))
        m = holes_over_k(mean, logvar, torch.Generator().manual_seed(SEED))
        c = m.chosen
        out = {
            "share": c.share,
            "se": c.se,
            "floor": c.floor,
            "k": m.chosen_k,
            "at_edge": m.at_edge,
            "near": m.sensitivity_ks,
            "range": list(m.share_range),
            "density": f"a {m.chosen_k}-component mixture fitted to draws from q (K chosen by held-out likelihood)"
            + from_few(len(_mean)),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda f: f.write(json.dumps(out).encode()), durable=False)
        except OSError:  # a read-only cache: the figure is still shown, only measured again next time
            pass
        task.report("fit", 1, 1)
        return out

    return work


def _disk_path(ref: ModelRef):
    from vae_core.io.projection_cache import file_digest

    return settings.cache_dir("holes") / f"{file_digest(ref.path)[:16]}-{ref.data}-seed{SEED}.json"


@st.cache_data(max_entries=32, show_spinner=False)
def grid(ref: ModelRef, extent: tuple, _mean, _logvar) -> np.ndarray:
    """For a 2-D latent space, the holes overlay on a grid over `extent` (row 0 at the top): the
    shade rises smoothly from 0 to 1 across q(z) = p(z)/10 (0.5 on that line: a logistic in
    log q/p), and only where the prior has mass worth speaking of — inside its SIGMA radius,
    fading out over the last 0.3σ. Beyond it, q < p/10 is true of empty space and says nothing
    about the model."""
    mean, logvar = few(_mean, _logvar)
    g = hole_measures.log_ratio_grid(torch.from_numpy(mean), torch.from_numpy(logvar), extent, resolution=GRID)
    shade = torch.sigmoid(3.0 * (g.threshold - g.log_ratio.double()))
    r = torch.sqrt(g.xs.double()[None, :] ** 2 + g.ys.double()[:, None] ** 2)
    inside = ((SIGMA - r) / 0.3).clamp(0, 1)
    return (shade * inside).float().flip(0).numpy()
