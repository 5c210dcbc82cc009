"""The sidebar every page shares, and the Context it gives the page: which model, which data.

explorer.py calls sidebar() once per run; pages call current(). The sidebar reads only the
checkpoints' headers: the weights (and torch) load when a page first asks for `ctx.model`, so
the first page can draw its map from shipped assets before torch is imported.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import streamlit as st

from ui.frame import picker, url
from ui.services.models import ModelRef, compatible_datasets, load_model, model_entries
from ui.settings import shipped_dir, user_dir
from vae_core.data import catalog
from vae_core.io import registry
from vae_core.model.config import ModelConfig
from vae_core.model.onnx_config import OnnxConfig


@dataclass(frozen=True)
class Context:
    """What the sidebar picked on this run. `key` names the model for widget keys: a widget whose
    options depend on the model is keyed with it, so a switch gives that model's defaults."""

    entry: registry.ModelEntry
    data_name: str
    key: str

    @property
    def ref(self) -> ModelRef:
        """This model file, at this version, on this run's dataset: the key of its cached results."""
        return ModelRef.of(self.entry, self.data_name)

    @property
    def meta(self) -> dict:
        """The checkpoint's own description (its header: read without loading the weights)."""
        return self.entry.meta

    @property
    def config(self) -> ModelConfig | OnnxConfig:
        """The model's settings from its header or manifest (kind, latent_dim, image_shape, ...):
        an OnnxConfig for an ONNX model folder (config.arch == "onnx")."""
        if self.entry.format == "onnx":
            return OnnxConfig.from_manifest(self.entry.meta["manifest"])
        return ModelConfig.from_dict(self.entry.meta["model_config"])

    @property
    def retrainable(self) -> bool:
        """Ours (a checkpoint with weights torch trains); an ONNX model's graphs have no gradients here."""
        return self.entry.format != "onnx"

    @property
    def model(self):
        """The model, loaded once per file version and shared. A file the load-time checks refuse
        raises CheckpointError, which explorer.py turns into one line on the page."""
        return load_model(self.ref)[0]

    def widget_key(self, name: str) -> str:
        return f"{name}@{self.key}"


def model_key(entry) -> str:
    """A short stable id of a model file: its stem plus a hash of its path (two folders may
    hold the same stem)."""
    return f"{entry.stem}-{hashlib.sha1(os.fsencode(entry.path)).hexdigest()[:6]}"


def sidebar() -> Context | None:
    """Model picker + dataset picker, or None with no usable model (the Train page still works
    then: it is how a first model gets made).

    The picker's options are file paths and its value lives under a fixed key: Streamlit keeps
    the user's choice itself. (Computing `index=` from state on each run made every second pick
    vanish: a changed index is a new widget, which starts again from its default.)"""
    entries = model_entries()
    good = {str(e.path): e for e in entries if e.ok and compatible_datasets(e)}
    bad = [(e.name, e.error) for e in entries if not e.ok]
    bad += [
        (e.name, NO_DATA.format(shape="×".join(map(str, e.image_shape))))
        for e in entries
        if e.ok and not compatible_datasets(e)
    ]
    with st.sidebar:
        if not good:
            st.warning(f"No usable model in {shipped_dir().name}/ or {user_dir().name}/: train one on the Train page.")
            _show_bad(bad)
            return None
        default = default_model(list(good.values()))
        url.restore_model(good, default)
        if st.session_state.get("_open_model") in good:  # another page asked for this model
            st.session_state["model"] = st.session_state.pop("_open_model")
        if st.session_state.get("model") not in good:  # first run, or the file went away
            st.session_state["model"] = default
        picker.style()
        path = st.selectbox(
            "Model",
            picker.order(good, default),
            format_func=lambda p: picker.label(good[p], default),
            key="model",
            help="By the data they were trained on and where they come from (shipped, β sweep, yours); "
            "the default first.",
        )
        entry = good[path]
        st.caption(f"Showing **{entry.stem}**: {entry.description}")
        key = model_key(entry)
        names = compatible_datasets(entry)
        url.restore_data(f"data_name@{key}", names)
        data_name = st.selectbox(
            "Points from",
            names,
            key=f"data_name@{key}",
            format_func=_data_label,
            help="The dataset whose latent codes are shown on the maps.",
        )
        if entry.dataset in DATA_HINTS and entry.dataset not in names:
            hint = DATA_HINTS[entry.dataset]
            st.caption(f"{entry.stem} was trained on {entry.dataset}, which is not on this machine: {hint}")
        _show_bad(bad)
    return Context(entry, data_name, key)


def _data_label(name: str) -> str:
    """A dataset as the picker shows it: an image folder by its own name and form, not its server path."""
    if name.startswith(catalog.FOLDER_PREFIX):
        path, _, form = name.rpartition("@")
        c, _, side = form.partition("x")
        return f"{catalog.title(path)} (folder, {side}×{side} {'colour' if c == '3' else 'grey'})"
    return name


def open_model(path: str) -> None:
    """Show this model from the next run on (the picker cannot be changed once it is drawn)."""
    st.session_state["_open_model"] = path


def default_model(entries) -> str:
    for e in entries:
        if e.path.stem == "vae-z2" and e.source == "shipped":
            return str(e.path)
    return str(entries[0].path)


DATA_HINTS = {
    "fashion": "`sudo apt-get install dataset-fashion-mnist` (or `make run` as root), or set VAE_EXPLORER_DATA_ROOT.",
    "mnist": "set VAE_EXPLORER_DATA_ROOT to a torchvision root holding MNIST/raw.",
}
NO_DATA = "no dataset available here has its image size ({shape}), so it cannot be shown."


def _show_bad(bad: list[tuple[str, str]]):
    """Files that cannot be used, each with its reason; names are shown as text, never as markup."""
    if bad:
        with st.expander(f"⚠️ {len(bad)} file(s) could not be used"):
            for name, reason in bad:
                st.text(f"{name}: {reason}" if not reason.startswith(name) else reason)


def current() -> Context:
    """What the sidebar picked on this run; stops the page if there is no usable model."""
    ctx = st.session_state.get("ctx")
    if ctx is None:
        st.info("There is no usable model yet. Train one on the **Train** page, or restore checkpoints/.")
        url.stop()
    return ctx
