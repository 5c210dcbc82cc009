"""What the browser draws a map from — points, the dataset's images, the decoder with its lift —
published once into the app's live-map cache (content-addressed files, ui/livemap).

None of it needs torch: points are the projection's positions, images come as uint8 arrays
(shipped for the default dataset, ui/services/first_map.py), and an MLP decoder's weights are read
from the checkpoint by numpy (vae_core.io.weights). A decoder in bfloat16 is published from the
loaded model instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import ui.livemap as lm
from ui import settings
from ui.livemap import cached
from ui.services import data
from ui.services.models import ModelRef, load_model


@dataclass(frozen=True)
class MapAssets:
    points: lm.PointSet
    images: lm.ImageSet
    decoder: lm.DecoderAsset | None  # None where the map cannot be decoded (t-SNE, UMAP)
    lift: lm.Lift | None


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
    images, _, _ = data.map_arrays(data_name)
    return lm.publish_images(cached.store(cache), images, digest=_known_digest(data_name))


def _known_digest(data_name: str) -> str | None:
    """Generated images are named by their generator's inputs (a million take seconds to hash)."""
    from vae_core.data import catalog

    if not catalog.is_synthetic(data_name):
        return None
    from vae_core.data import synthetic

    return synthetic.digest(data_name)


@st.cache_resource(max_entries=32, show_spinner=False)
def _decoder(cache: str, ref: ModelRef):
    """The model's decoder as an asset, keyed by its file version (ModelRef.file)."""
    from vae_core.io.weights import mlp_decoder

    found = mlp_decoder(ref.path)
    if found is None:  # bfloat16 weights: numpy has no such type, torch reads them
        return lm.publish_decoder(cached.store(cache), load_model(ref)[0])
    layers, config = found
    return lm.publish_mlp_decoder(cached.store(cache), layers, config.activation, config.image_shape)


def decoder(ref: ModelRef) -> lm.DecoderAsset:
    return _decoder(_cache(), ref.file)


def publish(ref: ModelRef, proj, decode: bool = True) -> MapAssets:
    """The assets of `ref`'s map on projection `proj` (the decoder only on linear maps, when asked)."""
    cache = _cache()
    points = _points(cache, ref, proj.method, tuple(sorted(proj.params.items())), proj.embedding)
    images = _images(cache, ref.data)
    lift = lm.Lift.from_projection(proj) if decode else None
    return MapAssets(points, images, decoder(ref) if lift is not None else None, lift)


@st.cache_resource(max_entries=32, show_spinner=False)
def _values(cache: str, data_name: str, name: str, label: str, _values: np.ndarray):
    return lm.publish_values(cached.store(cache), _values, label, scale="viridis")


def values(data_name: str, name: str, label: str, v: np.ndarray):
    """A per-point value (a shape attribute) published once per dataset and attribute, for colouring."""
    return _values(_cache(), data_name, name, label, v)
