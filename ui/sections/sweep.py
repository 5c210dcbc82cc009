"""The β-sweep page's data: sweep folders (shipped and yours), their tables, the clicked model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ui import settings
from vae_core.io import registry
from vae_core.runs import sweep_table


def folders() -> dict[str, str]:
    """{folder path: label} of every sweep folder beside the models."""
    out = {}
    for base, source in ((settings.shipped_dir(), "shipped"), (settings.user_dir(), "yours")):
        for d in registry.sweep_dirs(base):
            out[str(d)] = f"{d.name} ({source})"
    return out


@st.cache_data(max_entries=16, show_spinner=False)
def _rows(folder: str, mtime: float) -> sweep_table.SweepRows:
    return sweep_table.read_table(folder)


def rows(folder: str) -> tuple[list[dict], str | None]:
    """The finished points of a sweep, read once per version of its sweep.json, and why the table
    (or some of its rows) could not be used: None when all of it was read."""
    try:
        mtime = (Path(folder) / "sweep.json").stat().st_mtime
    except OSError:
        return [], None  # no table yet: no point has finished
    table = _rows(folder, mtime)
    return [r for r in table if r.get("status") == "done"], getattr(table, "reason", None)


def table(rows: list[dict]) -> pd.DataFrame:
    cols = {
        "beta": "β",
        "latent_dim": "z",
        "seed": "seed",
        "rate": "rate (KL)",
        "distortion": "distortion",
        "neg_elbo": "−ELBO",
        "nll_iw": "IW-NLL",
        "active_units": "active units",
        "knn_accuracy": "kNN accuracy",
        "sample_quality": "samples named",
        "sample_entropy": "sample entropy",
        "path": "file",
    }
    frame = pd.DataFrame([{v: r.get(k) for k, v in cols.items()} for r in rows])
    numbers = [c for c in frame.columns if c != "file"]
    frame[numbers] = frame[numbers].apply(pd.to_numeric, errors="coerce").round(3)
    for col in numbers:  # a figure that is not there is said in words (the table would print "None")
        if frame[col].isna().any():
            frame[col] = [MISSING.get(col, "not measured") if pd.isna(v) else f"{v:.3f}" for v in frame[col]]
    return frame


# What a missing figure means, per column: the IW bound of a β = 0 model overflows (its posteriors
# are so narrow that p(x, z) / q(z|x) is not finite in float precision).
MISSING = {"IW-NLL": "not finite (σ → 0)"}


def picked(event, rows: list[dict], folder: str) -> str | None:
    """The model file of the clicked point, as the model picker names it (a symlinked grid point
    is the shipped model it points to); None without a usable click."""
    try:
        for p in event.selection.points if event else []:
            i = int(p["customdata"][0] if isinstance(p["customdata"], list) else p["customdata"])
            if 0 <= i < len(rows):
                path = Path(folder) / rows[i]["path"]
                return str(path.resolve() if path.is_symlink() else path)
    except (AttributeError, KeyError, TypeError, ValueError):
        pass
    return None
