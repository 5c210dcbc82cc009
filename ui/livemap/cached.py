"""Cached publishing for the pages: widgets -> these calls -> one `latent_map(...)` per map.

Publishing is idempotent (content-addressed files), but hashing 60k digits or pulling a
decoder's weights out of torch on every rerun is wasted work, so each helper is cached by what
identifies its content: the checkpoint's path + mtime, the dataset's name and size. The store
folder comes from the caller (the app passes one outside the repository's shipped folders).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import streamlit as st

from .assets import AssetStore
from .publish import publish_decoder, publish_images, publish_points


def default_cache_dir() -> Path:
    """$VAE_EXPLORER_LIVEMAP_CACHE, else a per-user folder in the system's temporary directory."""
    env = os.environ.get("VAE_EXPLORER_LIVEMAP_CACHE")
    return (
        Path(env) if env else Path(tempfile.gettempdir()) / f"vae-explorer-livemap-{getattr(os, 'getuid', lambda: 0)()}"
    )


@st.cache_resource(show_spinner=False)
def store(cache_dir: str) -> AssetStore:
    return AssetStore(cache_dir)


@st.cache_resource(max_entries=32, show_spinner=False)
def decoder(cache_dir: str, path: str, mtime: float, _model):
    """The model's decoder as an asset; keyed by checkpoint path + mtime."""
    return publish_decoder(store(cache_dir), _model)


@st.cache_resource(max_entries=8, show_spinner="Preparing the digits for hover…")
def images(cache_dir: str, data_key: str, _images):
    """The dataset's images in chunks; `data_key` names the data (e.g. "mnist5k:train:5000")."""
    return publish_images(store(cache_dir), _images)


@st.cache_resource(max_entries=64, show_spinner=False)
def points(cache_dir: str, map_key: str, _xy, _labels, classes: tuple):
    """A map's points; `map_key` names the map (checkpoint, mtime, data, method, params)."""
    return publish_points(store(cache_dir), _xy, _labels, classes)
