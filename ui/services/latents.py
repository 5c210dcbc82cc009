"""A model's codes of a dataset and their maps: encoded once, projected once (on disk for the
slow projections), keyed by a ModelRef (model file, version, dataset).

The model and the codes are passed as underscored (unhashed) arguments; the ref is the key.
Torch and the projections' libraries are imported inside the functions: the first page draws
from shipped assets without them (ui/services/first_map.py).
"""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from ui import settings
from ui.services import data, first_map, fitting
from ui.services.models import ModelRef, load_model


@st.cache_data(max_entries=32, show_spinner="Encoding the dataset…")
def codes(ref: ModelRef) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances of the map's points: shipped with the default model
    (computed by the same encoder at ship time), else encoded here."""
    shipped = first_map.codes(ref.path, ref.data)
    if shipped is not None and len(shipped[0]) == len(data.map_arrays(ref.data)[1]):
        return shipped
    from vae_core.model.estimators import encode_all

    mean, logvar = encode_all(load_model(ref)[0], data.dataset(ref.data).images)
    return mean.numpy(), logvar.numpy()


def decode(model, z):
    import torch

    with torch.inference_mode():
        return model.decode(torch.as_tensor(np.asarray(z), dtype=torch.float32))


def encode(model, x):
    """The posterior of images x (a tensor or an array [N, C, H, W] in [0, 1])."""
    import torch

    with torch.inference_mode():
        return model.encode(torch.as_tensor(np.asarray(x) if not hasattr(x, "detach") else x, dtype=torch.float32))


def dimension_order(mean: np.ndarray, logvar: np.ndarray) -> list[int]:
    """Latent dimensions, most informative first (vae_core.analysis.latent.dimension_order)."""
    import torch

    from vae_core.analysis import latent

    return latent.dimension_order(torch.from_numpy(mean), torch.from_numpy(logvar)).tolist()


def native_dims(mean: np.ndarray, logvar: np.ndarray) -> tuple[int, int]:
    """For a native map of a D > 2 model: its two most informative dimensions."""
    order = dimension_order(mean, logvar)
    return int(order[0]), int(order[min(1, len(order) - 1)])


def _data_key(ref: ModelRef, n: int) -> str:
    return f"{ref.data}:train:{n}"


@st.cache_data(max_entries=32, show_spinner=False)
def project(ref: ModelRef, method: str, params: tuple, _codes: np.ndarray, native_dims: tuple[int, int] = (0, 1)):
    from vae_core.analysis import projection

    return projection.project(
        _codes,
        method,
        dict(params),
        checkpoint=ref.path,
        data_key=_data_key(ref, len(_codes)),
        native_dims=native_dims,
        cache_dir=settings.cache_dir("projections"),
    )


def map_projection(ref: ModelRef, method: str, params: tuple):
    """Codes and their projection for a model: (mean, logvar, Projection). A large t-SNE / UMAP
    map not on disk yet is fitted in the background (ui/services/fitting): PCA meanwhile."""
    mean, logvar = codes(ref)
    dims = native_dims(mean, logvar) if mean.shape[1] > 2 else (0, 1)
    if method in ("tsne", "umap") and len(mean) > fitting.BIG:
        if _big_map_ready(ref, method, params, mean, dims):
            return mean, logvar, project(ref, method, params, mean, dims)
        method, params = "pca", ()
    slow = {"tsne": "t-SNE (about 30 s", "umap": "UMAP (up to a minute, with its first-use compilation"}
    note = f"Fitting {slow[method]}; once per model, then cached on disk)…" if method in slow else "Projecting…"
    with st.spinner(note):
        proj = project(ref, method, params, mean, dims)
    return mean, logvar, proj


def _big_map_ready(ref: ModelRef, method: str, params: tuple, mean: np.ndarray, dims) -> bool:
    """True when the map is on disk; else its background fit is started or followed (a bar)."""
    from vae_core.analysis import projection

    data_key, folder = _data_key(ref, len(mean)), settings.cache_dir("projections")
    if projection.lookup(mean, method, dict(params), ref.path, data_key, cache_dir=folder) is not None:
        return True
    key = (ref, method, params)
    fit = fitting.start(
        key,
        method,
        len(mean),
        functools.partial(projection.project, mean, method, dict(params), ref.path, data_key, 0, dims, folder),
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


@st.cache_data(max_entries=8, show_spinner="Placing the codes in 3-D…")
def embed_3d(ref: ModelRef, method: str, _mean: np.ndarray, _logvar: np.ndarray):
    """(indices shown, [M, 3] positions, axis labels): at most MAX_3D_POINTS, a fixed random subset."""
    from vae_core.analysis import projection

    n, most = len(_mean), settings.MAX_3D_POINTS
    keep = np.sort(np.random.default_rng(0).choice(n, most, replace=False)) if n > most else None
    idx = np.arange(n) if keep is None else keep
    order = dimension_order(_mean, _logvar)
    xyz, labels = projection.embed_3d(_mean[idx], method, native_dims=tuple(int(i) for i in order[:3]))
    return idx, xyz, labels
