"""The app's cached calls into vae_core, and the sidebar every page shares.

Models: st.cache_resource keyed by path + mtime, eval mode, shared read-only across sessions.
Derived data (codes, projections, metrics): st.cache_data with the model passed as `_model`
and the (path, mtime) pair as the real key; projections also cached on disk by vae_core.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

import vae_core
from vae_core import jobs, latent, projection, registry

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = os.environ.get("VAE_EXPLORER_DATA_ROOT")  # a torchvision root for mnist / fashion


def shipped_dir() -> Path:
    return Path(os.environ.get("VAE_EXPLORER_CHECKPOINTS", ROOT / "checkpoints"))


def user_dir() -> Path:
    """Where the Train page saves models (never the shipped folder)."""
    return Path(os.environ.get("VAE_EXPLORER_USER_MODELS", ROOT / "user_models"))


MAP_POINTS = 5000  # codes shown on a map (all of mnist5k's training split)


def model_entries() -> list[registry.ModelEntry]:
    return registry.scan(shipped_dir(), user_dir())


@st.cache_resource(max_entries=16, show_spinner="Loading model…")
def load_model(path: str, mtime: float):
    """(model, meta); mtime is part of the key so a retrained file is reloaded."""
    model, meta = vae_core.load_checkpoint(path)
    for p in model.parameters():
        p.requires_grad_(False)  # shared across sessions: nothing may train or mutate it
    return model, meta


@st.cache_resource(max_entries=8, show_spinner="Loading data…")
def dataset(name: str, split: str = "train"):
    return vae_core.load_dataset(name, split, DATA_ROOT).subset(MAP_POINTS)


@st.cache_data(max_entries=32, show_spinner="Encoding the dataset…")
def codes(path: str, mtime: float, data_name: str, _model) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances of the map's points."""
    from vae_core.evaluate import encode_all

    mean, logvar = encode_all(_model, dataset(data_name).images)
    return mean.numpy(), logvar.numpy()


@st.cache_data(max_entries=32, show_spinner=False)
def project(
    path: str,
    mtime: float,
    data_name: str,
    method: str,
    params: tuple,
    _codes: np.ndarray,
    native_dims: tuple[int, int] = (0, 1),
) -> projection.Projection:
    data_key = f"{data_name}:train:{len(_codes)}"
    return projection.project(_codes, method, dict(params), checkpoint=path, data_key=data_key, native_dims=native_dims)


@st.cache_data(max_entries=32, show_spinner="Evaluating (importance-weighted bound)…")
def metrics(path: str, mtime: float, data_name: str, iw_samples: int, _model, _meta: dict) -> dict:
    """Validation metrics; read from the checkpoint when it carries them for this data and K."""
    from vae_core.evaluate import evaluate

    stored = _meta.get("evaluation") or {}
    if _meta.get("dataset") == data_name and stored.get("iw_samples") == iw_samples and stored.get("split") == "val":
        return stored

    val = vae_core.load_dataset(data_name, "val", DATA_ROOT).subset(500)
    return evaluate(_model, val, dataset(data_name), iw_samples=iw_samples)


@st.cache_resource
def job_manager() -> jobs.JobManager:
    """One queue per server process: jobs survive page switches, refreshes and new tabs."""
    return jobs.JobManager(protected_dirs=[shipped_dir()])


def decode(model, z: np.ndarray | torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model.decode(torch.as_tensor(np.asarray(z), dtype=torch.float32))


def encode(model, x: torch.Tensor):
    with torch.inference_mode():
        return model.encode(x)


def native_dims(mean: np.ndarray, logvar: np.ndarray) -> tuple[int, int]:
    """For a native map of a D > 2 model: its two most informative dimensions."""
    order = latent.dimension_order(torch.from_numpy(mean), torch.from_numpy(logvar))
    return int(order[0]), int(order[min(1, len(order) - 1)])


@dataclass(frozen=True)
class Context:
    """What the sidebar picked on this run. `key` names the model for widget keys: a widget whose
    options depend on the model is keyed with it, so a switch gives that model's defaults."""

    entry: registry.ModelEntry
    model: torch.nn.Module
    meta: dict
    data_name: str
    key: str

    def widget_key(self, name: str) -> str:
        return f"{name}@{self.key}"


def model_key(entry) -> str:
    """A short stable id of a model file: its stem plus a hash of its path (two folders may
    hold the same stem)."""
    return f"{entry.path.stem}-{hashlib.sha1(str(entry.path).encode()).hexdigest()[:6]}"


def sidebar() -> Context | None:
    """Model picker + dataset picker, or None with no usable model (the Train page still works
    then: it is how a first model gets made).

    The picker's options are file paths and its value lives under a fixed key: Streamlit keeps
    the user's choice itself. (Computing `index=` from state on each run made every second pick
    vanish: a changed index is a new widget, which starts again from its default.)"""
    entries = model_entries()
    good = {str(e.path): e for e in entries if e.ok and compatible_datasets(e)}
    bad = [(e.path.name, e.error) for e in entries if not e.ok]
    bad += [
        (e.path.name, NO_DATA.format(shape="×".join(map(str, e.image_shape))))
        for e in entries
        if e.ok and not compatible_datasets(e)
    ]
    with st.sidebar:
        if not good:
            st.warning(f"No usable model in {shipped_dir().name}/ or {user_dir().name}/: train one on the Train page.")
            _show_bad(bad)
            return None
        if st.session_state.get("model") not in good:  # first run, or the file went away
            st.session_state["model"] = _default_model(list(good.values()))
        path = st.selectbox(
            "Model",
            list(good),
            format_func=lambda p: good[p].label,
            key="model",
            help="Shipped models and the ones you trained, by latent size.",
        )
        entry = good[path]
        st.caption(f"Showing **{entry.path.stem}**: {entry.description}")
        key = model_key(entry)
        data_name = st.selectbox(
            "Points from",
            compatible_datasets(entry),
            key=f"data_name@{key}",
            help="The dataset whose latent codes are shown on the maps.",
        )
        _show_bad(bad)
    try:
        model, meta = load_model(str(entry.path), entry.mtime)
    except (vae_core.CheckpointError, OSError) as e:  # changed on disk since it was listed
        st.sidebar.error(str(e))
        return None
    return Context(entry, model, meta, data_name, key)


def _default_model(entries) -> str:
    for e in entries:
        if e.path.stem == "vae-z2" and e.source == "shipped":
            return str(e.path)
    return str(entries[0].path)


def compatible_datasets(entry) -> list[str]:
    """Datasets here whose images have the model's shape, the model's own first. A checkpoint's
    `dataset` field is only a hint: it is offered only if it exists, is here and fits."""
    names = []
    for name in (entry.dataset, "mnist5k", "fashion", "mnist", "digits"):
        if name in vae_core.data.DATASETS and name not in names and _available(name, entry.image_shape):
            names.append(name)
    return names


@st.cache_data(show_spinner=False)
def _available(name: str, shape: tuple) -> bool:
    return tuple(shape) == DATASET_SHAPES[name] and vae_core.data.is_available(name, DATA_ROOT)


DATASET_SHAPES = {"mnist5k": (1, 28, 28), "mnist": (1, 28, 28), "fashion": (1, 28, 28), "digits": (1, 8, 8)}


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
        st.stop()
    return ctx


@st.cache_data(max_entries=8, show_spinner=False)
def hover_text(data_name: str) -> list[str]:
    from ui.figures import braille

    return braille(dataset(data_name).images[:, 0].numpy())


def projection_controls(d: int, key: str, default: str | None = None) -> tuple[str, tuple]:
    """The projection picker and its parameters: (method, params as a hashable tuple)."""
    names = {"native": "native (z)", "pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
    options = list(names)
    method = st.segmented_control(
        "Projection",
        options,
        format_func=names.get,
        key=f"{key}_method",
        default=default or ("native" if d == 2 else "pca"),
    )
    method = method or "pca"
    params: dict = {}
    if method == "umap":
        c1, c2 = st.columns(2)
        params["n_neighbors"] = c1.slider("n_neighbors", 5, 100, 15, key=f"{key}_nn")
        params["min_dist"] = c2.slider("min_dist", 0.0, 0.99, 0.1, 0.01, key=f"{key}_md")
    elif method == "tsne":
        params["perplexity"] = float(st.slider("perplexity", 5, 100, 30, key=f"{key}_perp"))
    if method == "native" and d > 2:
        st.caption(f"z has {d} dimensions: the native map shows the two with the most KL.")
    return method, tuple(sorted(params.items()))


def map_projection(entry, model, data_name: str, method: str, params: tuple):
    """Codes and their projection for the current model: (mean, logvar, Projection)."""
    mean, logvar = codes(str(entry.path), entry.mtime, data_name, model)
    dims = native_dims(mean, logvar) if mean.shape[1] > 2 else (0, 1)
    slow = {"tsne": "t-SNE (about 30 s", "umap": "UMAP (up to a minute, with its first-use compilation"}
    note = f"Fitting {slow[method]}; once per model, then cached on disk)…" if method in slow else "Projecting…"
    with st.spinner(note):
        proj = project(str(entry.path), entry.mtime, data_name, method, params, mean, dims)
    return mean, logvar, proj


def digit_picker(data, key: str, label: str, default_class: int = 0):
    """Pick a digit of the dataset by class and index within the class: (dataset index, image [1,1,H,W])."""
    labels = data.labels.numpy()
    c1, c2 = st.columns(2)
    c = c1.selectbox(
        f"{label}: class",
        range(len(data.classes)),
        index=default_class % len(data.classes),
        format_func=lambda i: data.classes[i],
        key=f"{key}_class",
    )
    members = np.flatnonzero(labels == c)
    j = c2.number_input(f"{label}: index in class", 0, max(0, len(members) - 1), 0, key=f"{key}_idx")
    i = int(members[int(j)])
    return i, data.images[i : i + 1]


@dataclass(frozen=True)
class Input:
    """A digit the user gave: the prepared image [1, 1, 28, 28] and a signature of what they gave."""

    x: torch.Tensor
    signature: str


def upload_digit(key: str, label: str = "Upload a digit") -> Input | None:
    """A file uploader; the prepared digit, or None (errors shown on the page, never raised)."""
    up = st.file_uploader(label, type=UPLOAD_TYPES, key=key, help=f"Up to {UPLOAD_MB} MB.", max_upload_size=UPLOAD_MB)
    if up is None:
        return None
    x, error = prepare_upload(up.getvalue())
    if error:
        st.error(f"{up.name}: {error}")
        return None
    return Input(torch.from_numpy(x), f"upload:{up.file_id}")


@st.cache_data(max_entries=32, show_spinner=False)
def prepare_upload(data: bytes) -> tuple[np.ndarray | None, str | None]:
    """Decode and prepare uploaded bytes once per content (reruns reuse it): (digit, None) or (None, message)."""
    from vae_core.preprocess import load_image

    try:
        return vae_core.prepare_image(load_image(data, UPLOAD_MB * 2**20)).unsqueeze(0).numpy(), None
    except ValueError as e:
        return None, str(e)


UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
UPLOAD_MB = 10


def drawn_digit(key: str) -> Input | None:
    """A 280x280 canvas (white ink on black, like MNIST); the prepared drawing, or None."""
    import json

    from PIL import Image

    try:
        from streamlit_drawable_canvas import st_canvas
    except ImportError:
        st.info("Drawing needs the streamlit-drawable-canvas package (pip install -r requirements.txt).")
        return None
    stroke = st.slider("Brush", 8, 40, 20, key=f"{key}_brush")
    result = st_canvas(
        stroke_width=stroke,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=280,
        width=280,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    objects = (result.json_data or {}).get("objects", []) if result is not None else []
    if not objects or result.image_data is None:
        return None
    image = Image.fromarray(np.asarray(result.image_data, dtype=np.uint8)).convert("RGB")
    try:
        x = vae_core.prepare_image(image).unsqueeze(0)
    except ValueError as e:
        st.info(f"Draw a digit: {e}")
        return None
    return Input(x, "drawing:" + hashlib.sha1(json.dumps(objects, sort_keys=True).encode()).hexdigest())


def latest_input(key: str, inputs: dict[str, Input | None]) -> str | None:
    """Which of several inputs to use: the one that changed most recently (a new upload, a new
    stroke); if that one is removed, the newest of the others still there."""
    seen = st.session_state.setdefault(f"{key}_seen", {})  # name -> signature on the last run
    order = st.session_state.setdefault(f"{key}_order", [])  # names, oldest change first
    for name, given in inputs.items():
        sig = given.signature if given else None
        if sig != seen.get(name):
            seen[name] = sig
            if name in order:
                order.remove(name)
            order.append(name)
    present = [name for name in order if inputs.get(name) is not None]
    return present[-1] if present else None


def model_trios(image_shape) -> dict[int, dict]:
    """{latent size: {"ae": entry, "kl": entry, "vae": entry}} for sizes that have all three kinds
    (shipped ones preferred, else the newest of yours), on images of `image_shape`."""
    found: dict[int, dict] = {}
    ranked = sorted(
        (e for e in model_entries() if e.ok and e.image_shape == tuple(image_shape)),
        key=lambda e: (e.source != "shipped", -e.mtime),
    )
    for e in ranked:
        found.setdefault(e.latent_dim, {}).setdefault(e.kind, e)
    return {d: {k: t[k] for k in ("ae", "kl", "vae")} for d, t in found.items() if {"ae", "kl", "vae"} <= set(t)}


def selected_index(event, n: int) -> int | None:
    """The dataset index of the first clicked point in a plotly selection event, or None.

    The event comes from the browser: anything that is not one integer in [0, n) — a point
    without customdata (an overlay), an index out of range, text — is ignored, never raised."""
    try:
        points = event.selection.points if event else []
        for p in points:
            value = np.ravel(p.get("customdata", []))[:1]
            if value.size and float(value[0]).is_integer() and 0 <= int(value[0]) < n:
                return int(value[0])
    except (AttributeError, TypeError, ValueError, OverflowError):
        pass
    return None
