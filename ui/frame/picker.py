"""The sidebar's model picker: its options grouped by dataset and origin, the default first, and a
list wide enough to read a long name.

A selectbox has no option groups, so each label starts with its group ("MNIST · shipped — …")
and the options come group by group: the default model, then the default's dataset (shipped,
β sweep, yours), then the other datasets the same way. The list is drawn in the page (a popover
as wide as the sidebar clips long names), so it gets its own width: 34rem, at most 92 % of the window.
"""

from __future__ import annotations

import streamlit as st

from vae_core.data import catalog
from vae_core.io.registry import KIND_NAMES

ORIGINS = {"shipped": "shipped", "sweep": "β sweep", "yours": "yours"}
KINDS = ("vae", "ae", "kl")
# The picker's popover is found by its list's accessible name, "Model": no other list is touched.
CSS = """<style>
[data-testid=stSelectboxVirtualDropdown]:has([role=listbox][aria-label="Model"]) { width: min(34rem, 92vw) !important; }
[role=listbox][aria-label="Model"], [role=listbox][aria-label="Model"] [role=presentation],
[role=listbox][aria-label="Model"] [role=option] { width: 100% !important; }
</style>"""


def group(entry) -> str:
    """ "MNIST · shipped", "Fashion-MNIST · yours", ...: the dataset it was trained on and where it comes from."""
    return f"{catalog.title(entry.dataset)} · {ORIGINS.get(entry.source, entry.source)}"


def label(entry, default: str | None = None) -> str:
    """The option's line: its group, its file's name, what it is."""
    cfg = entry.meta.get("model_config", {})
    beta = cfg.get("beta", 1.0)
    what = KIND_NAMES.get(entry.kind, entry.kind) + (f", β={beta:g}" if entry.kind == "vae" and beta != 1 else "")
    what += f", z={entry.latent_dim}" + (", ONNX" if entry.format == "onnx" else "")
    mark = " (default)" if default is not None and str(entry.path) == default else ""
    return f"{group(entry)} — {entry.stem} · {what}{mark}"


def order(entries: dict, default: str) -> list[str]:
    """The options (paths): the default, then by dataset (the default's first), origin, latent size, kind, name."""
    first = entries[default].dataset if default in entries else None
    datasets = [first, *catalog.DATASETS]

    def key(path: str):
        e = entries[path]
        data = datasets.index(e.dataset) if e.dataset in datasets else len(datasets)
        origin = list(ORIGINS).index(e.source) if e.source in ORIGINS else len(ORIGINS)
        kind = KINDS.index(e.kind) if e.kind in KINDS else len(KINDS)
        return (path != default, data, e.dataset, origin, e.latent_dim, kind, e.stem)

    return sorted(entries, key=key)


def style() -> None:
    """The picker's list, wide enough for long names (once per run; it only adds a style element)."""
    st.html(CSS)
