"""What the browser draws a map from — points, the dataset's images, the decoder with its lift —
published once into the app's live-map cache (content-addressed files, ui/livemap).

None of it needs torch for our MLPs: points are the projection's positions, images come as
uint8 arrays (shipped for the default dataset, ui/services/first_map.py), and an MLP decoder's
weights are read from the checkpoint by numpy (vae_core.io.weights); a decoder in bfloat16 is
published from the loaded model instead.

Every other decoder goes to the browser as an ONNX graph (ui.livemap kind "onnx", run there by
onnxruntime-web): an ONNX model's own checked graph, and for any other architecture of ours (the
conv family) its decoder exported once by vae_core.io.onnx_export.decoder_bytes and kept in the
app's cache, keyed by the checkpoint's content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

import ui.livemap as lm
from ui import settings
from ui.livemap import cached
from ui.livemap.publish import MAX_BROWSER_GRAPH_BYTES
from ui.services import data
from ui.services.models import ModelRef, load_model


@dataclass(frozen=True)
class MapAssets:
    points: lm.PointSet
    images: lm.ImageSet | None  # None: images made on demand, and no image route to serve them (_images)
    decoder: lm.DecoderAsset | None  # None where the map cannot be decoded (t-SNE, UMAP)
    lift: lm.Lift | None
    decoder_note: str = ""  # why a linear map has no decoder in the browser ("" when it has one)


def store() -> lm.AssetStore:
    return cached.store(_cache())


def _cache() -> str:
    return str(settings.cache_dir("livemap"))


@st.cache_resource(max_entries=64, show_spinner=False)
def _points(cache: str, ref: ModelRef, method: str, params: tuple, _xy: np.ndarray):
    _, labels, classes = data.map_arrays(ref.data)
    return lm.publish_points(cached.store(cache), _xy, labels, classes)


@st.cache_resource(max_entries=8, show_spinner="Preparing the images for hover…")
def _images(cache: str, data_name: str):
    """The hover images; None where they are made on demand (shapes' sprites from their bits) and
    this server has no image route to make them (`streamlit run explorer.py`): writing them all as
    chunk files would mean expanding 2.7 GB. The map then shows no image on hover."""
    from ui.livemap import route

    images, _, _ = data.map_arrays(data_name)
    if getattr(images, "lazy", False) and not route.installed():
        return None
    return lm.publish_images(cached.store(cache), images, digest=_known_digest(data_name))


def _known_digest(data_name: str) -> str | None:
    """Generated images are named by their generator's inputs (a million take seconds to hash)."""
    return data.generated_digest(data_name)


@st.cache_resource(max_entries=32, show_spinner="Preparing the decoder for your browser…")
def _decoder(cache: str, ref: ModelRef) -> tuple[lm.DecoderAsset | None, str]:
    """The model's decoder as an asset, keyed by its file version (ModelRef.file): (asset, "") or
    (None, why the browser cannot be given it). A failure is cached too: it is not retried each run."""
    from vae_core.io.header import CheckpointError, checked_meta

    store = cached.store(cache)
    try:
        arch = _arch(ref.path)
        if arch == "mlp":
            from vae_core.io.weights import mlp_decoder

            found = mlp_decoder(ref.path)
            if found is not None:
                layers, config = found
                return lm.publish_mlp_decoder(store, layers, config.activation, config.image_shape), ""
        if arch not in ("mlp", "onnx"):  # conv: its exported graph (cached) and its checked header, no torch
            cfg = checked_meta(ref.path)[1]
            return lm.publish_onnx_decoder(store, _exported_decoder(ref), cfg.latent_dim, cfg.image_shape), ""
        model = load_model(ref)[0]  # bfloat16 MLP weights (torch reads them) or an ONNX model's own graph
        return lm.publish_decoder(store, model), ""
    except (lm.AssetError, CheckpointError, OSError, ValueError) as e:
        return None, str(e)


def _arch(path: str) -> str:
    """ "onnx" for an ONNX model folder, else the checkpoint's architecture ("mlp", "conv", ...)."""
    if Path(path).is_dir():
        return "onnx"
    from vae_core.io.header import read_meta

    return str(read_meta(Path(path)).get("model_config", {}).get("arch", "mlp"))


def _exported_decoder(ref: ModelRef) -> bytes:
    """Our non-MLP decoder as ONNX bytes: exported once per checkpoint content (a few seconds of
    torch.onnx.export, in a process of its own), then read from the app's cache."""
    from vae_core.io.atomic import atomic_write
    from vae_core.io.projection_cache import file_digest

    path = settings.cache_dir("decoders") / f"{file_digest(ref.path)[:32]}.onnx"
    if path.is_file() and 0 < path.stat().st_size <= MAX_BROWSER_GRAPH_BYTES:
        return path.read_bytes()
    from vae_core.io.onnx_export import decoder_bytes_apart  # imports torch: only when there is work

    graph = decoder_bytes_apart(ref.path)  # its own process: the exporter's tracing state is process-wide
    atomic_write(path, lambda f: f.write(graph), durable=False)  # a cache: a lost file is exported again
    return graph


def browser_decoder(ref: ModelRef) -> tuple[lm.DecoderAsset | None, str]:
    """(the decoder the browser runs, "") or (None, why it cannot be given one: the page decodes
    on the server)."""
    return _decoder(_cache(), ref.file)


def publish(ref: ModelRef, proj, decode: bool = True) -> MapAssets:
    """The assets of `ref`'s map on projection `proj` (the decoder only on linear maps, when asked)."""
    cache = _cache()
    points = _points(cache, ref, proj.method, tuple(sorted(proj.params.items())), proj.embedding)
    images = _images(cache, ref.data)
    lm.keep_serving(images, data.map_arrays(ref.data)[0] if images is not None else None)
    lift = lm.Lift.from_projection(proj) if decode else None
    decoder, note = browser_decoder(ref) if lift is not None else (None, "")
    return MapAssets(points, images, decoder, lift if decoder is not None else None, note)


@st.cache_resource(max_entries=32, show_spinner=False)
def _values(cache: str, data_name: str, name: str, label: str, _values: np.ndarray):
    return lm.publish_values(cached.store(cache), _values, label, scale="viridis")


def values(data_name: str, name: str, label: str, v: np.ndarray):
    """A per-point value (a shape attribute) published once per dataset and attribute, for colouring."""
    return _values(_cache(), data_name, name, label, v)
