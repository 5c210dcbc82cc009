"""A model's codes of a dataset and their maps: encoded once (on disk, content-addressed),
projected once (on disk for the slow projections), keyed by a ModelRef (model file, version, dataset).

Small datasets (up to SYNC_MAX images: a second's work) are encoded in the page. Bigger ones
are encoded on the server's encode lane (ui/services/tasks): the page says what is happening,
follows it with a bar and an estimate, can cancel it, and draws when it is done; the codes go
to the app's cache as float16 (vae_core.io.code_cache), so the next visit, or the next server,
reads them in a fraction of a second. t-SNE and UMAP maps are always fitted in the background
(ui/services/fitting.py); the map meanwhile shows the last good projection.
Torch and the projections' libraries are imported inside the functions: the first page draws
from shipped assets without them (ui/services/first_map.py).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import streamlit as st

from ui import settings
from ui.services import data, first_map, fitting, progress, tasks
from ui.services.models import ModelRef, load_model

SYNC_MAX = 10_000  # images encoded in the page itself (about a second here); more go to the encode lane
HELD_BYTES = 1 << 30  # codes kept in memory across sessions (a million 16-D codes: 128 MB)
ENCODE_S_PER_1K = 0.13  # vae-z16, 200,000 generated digits on this 2-core VM under load: 25.8 s


class Held:
    """Codes in memory, least recently used out first, bounded in bytes (shared by sessions)."""

    def __init__(self, limit: int = HELD_BYTES):
        self.items: OrderedDict = OrderedDict()
        self.limit = limit

    def get(self, ref):
        found = self.items.get(ref)
        if found is not None:
            self.items.move_to_end(ref)
        return found

    def put(self, ref, codes):
        self.items[ref] = codes
        while len(self.items) > 1 and sum(m.nbytes + v.nbytes for m, v in self.items.values()) > self.limit:
            self.items.popitem(last=False)
        return codes


@st.cache_resource(show_spinner=False)
def _held() -> Held:
    return Held()


def codes(ref: ModelRef) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances of the map's points: shipped with the default model
    (computed by the same encoder at ship time), held in memory, on disk, or encoded now; a big
    dataset not encoded yet raises tasks.Pending (explorer.py follows it)."""
    n = data.size(ref.data)
    shipped = first_map.codes(ref.path, ref.data)
    if shipped is not None and len(shipped[0]) == n:
        return shipped
    held = _held().get(ref)
    if held is not None:
        return held
    from vae_core.io import code_cache, registry

    d = registry.describe(Path(ref.path), "").latent_dim  # the header's: torch loads only to encode
    key, folder = _cache_key(ref, d), settings.cache_dir("codes")
    found = code_cache.read(folder, key, n, d)
    if found is not None:
        return _held().put(ref, found)
    model = load_model(ref)[0]
    if n <= SYNC_MAX:
        with st.spinner(f"Encoding {n:,} images…"):
            return _held().put(ref, _encode(ref, model)(None))
    board, key = tasks.board(), ("encode", ref)
    if key in progress.cancelled():  # this session stopped it: not again until asked (progress.wait)
        raise tasks.Pending(board.get(key) or tasks.stopped(key, _title(ref, n)))
    task = board.submit(key, key, "encode", _title(ref, n), _encode(ref, model))
    if task.estimate_s is None:
        task.estimate_s, task.measured = _estimate("encode", n, ENCODE_S_PER_1K)
    if task.state == "done" and task.result is not None:
        board.forget(task.key)
        return _held().put(ref, task.result)
    raise tasks.Pending(task)


def _title(ref: ModelRef, n: int) -> str:
    return f"Encoding {n:,} images of {ref.data} under {Path(ref.path).stem} (once; then read from disk)"


def _estimate(kind: str, n: int, default: float) -> tuple[float, bool]:
    per_1k, measured = tasks.seconds_per_1k(kind, default)
    return per_1k * n / 1000, measured


def _encode(ref: ModelRef, model):
    """The work of encoding ref's dataset: on the encode lane (task) or in the page (None)."""

    def work(task):
        from vae_core.analysis.encoding import encode_cached

        dataset = data.load(ref.data, "train").subset(settings.MAP_POINTS)  # an allow-listed folder at its form too
        follow = (lambda done, total: task.report("encode", done, total)) if task else None
        stop = task.should_stop if task else None
        t0 = time.monotonic()
        out = encode_cached(model, dataset, _model_digest(ref), settings.cache_dir("codes"), follow, stop)
        if task is not None and task.done == len(dataset):  # really encoded, not read back
            tasks.record("encode", len(dataset), time.monotonic() - t0)
        return out

    return work


def _model_digest(ref: ModelRef) -> str:
    return first_map.checkpoint_digest(ref.path)


def _cache_key(ref: ModelRef, latent_dim: int) -> str:
    from vae_core.io import code_cache

    return code_cache.cache_key(_model_digest(ref), _data_digest(ref.data), latent_dim)


@st.cache_resource(max_entries=16, show_spinner="Reading the dataset's fingerprint…")
def _data_digest(name: str) -> str:
    """The content digest of a map's dataset (generated data: from the generator's inputs)."""
    from vae_core.io import code_cache

    return data.generated_digest(name) or code_cache.data_digest(data.dataset(name))


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


@st.cache_resource(max_entries=16, show_spinner=False)
def project(ref: ModelRef, method: str, params: tuple, _codes: np.ndarray, native_dims: tuple[int, int] = (0, 1)):
    """A map of ref's codes: native and PCA computed (a fraction of a second for a million codes),
    t-SNE and UMAP read from disk (fitting.py makes them). Shared, never mutated."""
    from vae_core.analysis import projection

    return projection.project(
        _codes,
        method,
        dict(params),
        checkpoint=ref.path,
        data_key=fitting.data_key(ref, len(_codes)),
        native_dims=native_dims,
        cache_dir=settings.cache_dir("projections"),
    )


def map_projection(ref: ModelRef, method: str, params: tuple):
    """Codes and their projection for a model: (mean, logvar, Projection). A t-SNE or UMAP map not
    on disk yet is fitted in the background (ui/services/fitting): meanwhile the last good map of
    this model and data in this session is shown (else PCA, native for a 2-D model), with a bar."""
    mean, logvar = codes(ref)
    if method in ("tsne", "umap") and not fitting.ready(ref, method, params, mean, (0, 1)):
        method, params = _last_good(ref, mean)
    # only a native map of D > 2 picks dimensions (they need torch: the shapes map's PCA does not)
    dims = native_dims(mean, logvar) if method == "native" and mean.shape[1] > 2 else (0, 1)
    proj = project(ref, method, params, mean, dims)
    st.session_state[_good_key(ref)] = (method, params)
    return mean, logvar, proj


def _good_key(ref: ModelRef) -> str:
    return f"_last_map:{ref.path}:{ref.mtime}:{ref.data}"


def _last_good(ref: ModelRef, mean: np.ndarray) -> tuple[str, tuple]:
    """The map this session showed last for ref (if it is still at hand), else PCA / native."""
    last = st.session_state.get(_good_key(ref))
    if last and (last[0] in ("native", "pca") or fitting.on_disk(ref, last[0], last[1], mean)):
        return last
    return ("pca", ()) if mean.shape[1] > 2 else ("native", ())


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
