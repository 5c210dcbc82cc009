"""The app's cached calls into vae_core: models, data, codes, projections, metrics, jobs.

Models: st.cache_resource keyed by path + mtime, eval mode, shared read-only across sessions.
Derived data (codes, projections, metrics): st.cache_data with the model passed as `_model`
and the (path, mtime) pair as the real key; projections also cached on disk (the shipped ones
beside the checkpoints, read-only; the rest in the app's cache folder, bounded).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import streamlit as st
import torch

import vae_core
from ui import fitting
from vae_core.analysis import latent, projection
from vae_core.io import registry
from vae_core.runs import jobs

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = os.environ.get("VAE_EXPLORER_DATA_ROOT")  # a torchvision root for mnist / fashion


def shipped_dir() -> Path:
    return Path(os.environ.get("VAE_EXPLORER_CHECKPOINTS", ROOT / "checkpoints"))


def cache_dir(part: str = "") -> Path:
    """The app's own writable cache (projections, live-map assets, fitted samplers): never the
    repository's shipped folders. $VAE_EXPLORER_CACHE, else ~/.cache/vae-explorer."""
    base = os.environ.get("VAE_EXPLORER_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    root = Path(base) if os.environ.get("VAE_EXPLORER_CACHE") else Path(base) / "vae-explorer"
    return root / part if part else root


def user_dir() -> Path:
    """Where the Train page saves models (never the shipped folder)."""
    return Path(os.environ.get("VAE_EXPLORER_USER_MODELS", ROOT / "user_models"))


MAP_POINTS = 60_000  # codes shown on a map: a whole training split (mnist5k 4,500; Fashion 54,000)


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
    from vae_core.model.estimators import encode_all

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
    return projection.project(
        _codes,
        method,
        dict(params),
        checkpoint=path,
        data_key=data_key,
        native_dims=native_dims,
        cache_dir=cache_dir("projections"),
    )


@st.cache_data(max_entries=32, show_spinner="Evaluating (importance-weighted bound)…")
def metrics(path: str, mtime: float, data_name: str, iw_samples: int, _model, _meta: dict) -> dict:
    """Validation metrics; read from the checkpoint when it carries them for this data and K."""
    from vae_core.analysis.metrics import evaluate

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


def map_projection(entry, model, data_name: str, method: str, params: tuple):
    """Codes and their projection for the current model: (mean, logvar, Projection). A large
    t-SNE / UMAP map not on disk yet is fitted in the background (ui/fitting): PCA meanwhile."""
    mean, logvar = codes(str(entry.path), entry.mtime, data_name, model)
    dims = native_dims(mean, logvar) if mean.shape[1] > 2 else (0, 1)
    if method in ("tsne", "umap") and len(mean) > fitting.BIG:
        if _big_map_ready(entry, data_name, method, params, mean, dims):
            return mean, logvar, project(str(entry.path), entry.mtime, data_name, method, params, mean, dims)
        method, params = "pca", ()
    slow = {"tsne": "t-SNE (about 30 s", "umap": "UMAP (up to a minute, with its first-use compilation"}
    note = f"Fitting {slow[method]}; once per model, then cached on disk)…" if method in slow else "Projecting…"
    with st.spinner(note):
        proj = project(str(entry.path), entry.mtime, data_name, method, params, mean, dims)
    return mean, logvar, proj


def _big_map_ready(entry, data_name: str, method: str, params: tuple, mean: np.ndarray, dims) -> bool:
    """True when the map is on disk; else its background fit is started or followed (a bar)."""
    data_key, folder = f"{data_name}:train:{len(mean)}", cache_dir("projections")
    if projection.lookup(mean, method, dict(params), str(entry.path), data_key, cache_dir=folder) is not None:
        return True
    key = (str(entry.path), entry.mtime, data_name, method, params)
    fit = fitting.start(
        key,
        method,
        len(mean),
        functools.partial(projection.project, mean, method, dict(params), str(entry.path), data_key, 0, dims, folder),
        shown="native" if mean.shape[1] <= 2 else "PCA",  # PCA of two dimensions is the native map
    )
    if fit.future.done() and fit.future.exception() is None:
        fitting.forget(key)
        return True  # on disk now (or, on a read-only disk, refitted once by `project`)
    if fit.future.done():
        st.warning(f"The {method} map could not be fitted ({fit.future.exception()}); showing PCA.")
        return False
    fitting.show_progress(fit, key=f"fit_{method}_{abs(hash(key))}")
    return False


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


TITLES = {"mnist5k": "MNIST", "mnist": "MNIST", "fashion": "Fashion-MNIST", "digits": "scikit-learn 8×8"}


def title(data_name: str) -> str:
    """The dataset's name in running text."""
    return TITLES.get(data_name, data_name)


def noun(data_name: str) -> str:
    """What one image of the dataset is called on the pages."""
    return "digit" if data_name in ("mnist5k", "mnist", "digits") else "image"


DATASET_SHAPES = {"mnist5k": (1, 28, 28), "mnist": (1, 28, 28), "fashion": (1, 28, 28), "digits": (1, 8, 8)}


@st.cache_data(max_entries=8, show_spinner=False)
def hover_text(data_name: str) -> list[str]:
    from ui.figures import braille

    return braille(dataset(data_name).images[:, 0].numpy())


def model_trios(image_shape, dataset: str | None = None) -> dict[int, dict]:
    """{latent size: {"ae": entry, "kl": entry, "vae": entry}} for sizes that have all three kinds
    (shipped ones preferred, else the newest of yours), on images of `image_shape` and trained on
    `dataset` (a Fashion VAE is not compared with MNIST autoencoders)."""
    found: dict[int, dict] = {}
    ranked = sorted(
        (
            e
            for e in model_entries()
            if e.ok and e.image_shape == tuple(image_shape) and (dataset is None or e.dataset == dataset)
        ),
        key=lambda e: (e.source != "shipped", -e.mtime),
    )
    for e in ranked:
        found.setdefault(e.latent_dim, {}).setdefault(e.kind, e)
    return {d: {k: t[k] for k in ("ae", "kl", "vae")} for d, t in found.items() if {"ae", "kl", "vae"} <= set(t)}


@st.cache_data(max_entries=32, show_spinner=False)
def prepare_upload(data: bytes) -> tuple[np.ndarray | None, str | None]:
    """Decode and prepare uploaded bytes once per content (reruns reuse it): (digit, None) or (None, message)."""
    from vae_core.data.preprocess import load_image

    try:
        return vae_core.prepare_image(load_image(data, UPLOAD_MB * 2**20)).unsqueeze(0).numpy(), None
    except ValueError as e:
        return None, str(e)


UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
UPLOAD_MB = 10


@st.cache_data(max_entries=16, show_spinner=False)
def film(path: str, mtime: float) -> dict | None:
    """The training film stored with a checkpoint (codes [E, M, D], epochs), or None without one."""
    try:
        extras = vae_core.io.checkpoint.read_extras(path)
    except vae_core.CheckpointError:
        return None
    if "film_codes" not in extras or "film_epochs" not in extras:
        return None
    return {"codes": extras["film_codes"].float().numpy(), "epochs": extras["film_epochs"].tolist()}


MAX_3D_POINTS = 20_000  # a WebGL scatter in the browser stays fluid up to about here


@st.cache_data(max_entries=8, show_spinner="Placing the codes in 3-D…")
def embed_3d(path: str, mtime: float, data_name: str, method: str, _mean: np.ndarray, _logvar: np.ndarray):
    """(indices shown, [M, 3] positions, axis labels): at most MAX_3D_POINTS, a fixed random subset."""
    n = len(_mean)
    keep = np.sort(np.random.default_rng(0).choice(n, MAX_3D_POINTS, replace=False)) if n > MAX_3D_POINTS else None
    idx = np.arange(n) if keep is None else keep
    order = latent.dimension_order(torch.from_numpy(_mean), torch.from_numpy(_logvar))
    xyz, labels = projection.embed_3d(_mean[idx], method, native_dims=tuple(int(i) for i in order[:3]))
    return idx, xyz, labels
