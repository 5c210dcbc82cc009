"""The lesson's figures in words, written once: the codes' spread and the prior's holes, as the
Compare page, the Latent map's report and the Sample page show them — with the same names,
values and precision as the README's tables (scripts/lesson_table.py). No Streamlit, no torch.
"""

from __future__ import annotations

import numpy as np

from vae_core.analysis.thresholds import hole_words
from vae_core.analysis.wording import SPREAD_NAME, spread_text


def pct(v: float) -> str:
    """A share as the README's tables write it: one decimal."""
    return f"{100 * v:.1f}%"


def spread(scale: dict) -> str:
    """ "spread of q(z) per dimension 1.37 × 1.19 (prior: 1)" from a CodeScale's fields."""
    return f"{SPREAD_NAME} {spread_text(scale['aggregate_std'])} (prior: 1)"


def typical_spread(scale: dict) -> float:
    """The median over dimensions: one number that picks the words (wider or narrower than the prior)."""
    return float(np.median(scale["aggregate_std"]))


def holes_share(h: dict) -> str:
    """The share of the prior's mass in holes with its standard error: "6.8 % ± 0.6 %"."""
    return f"{pct(h['share'])} ± {pct(h['se'])}"


def holes_sentence(h: dict) -> str:
    """The whole measurement in one sentence: share, how q was estimated, and the estimator's floor."""
    floor = (
        f" The same estimator gives {pct(h['floor'])} when q equals the prior." if h.get("floor") is not None else ""
    )
    return (
        f"**{holes_share(h)}** of the prior's mass lies where {hole_words()} (the codes' density q below a tenth of "
        f"the prior's) — q estimated as {h['density']}.{floor}"
    )
