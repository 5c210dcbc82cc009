"""Fixtures for every room of the tests (engine/, app/, browser/); the browser's own are in browser/conftest.py."""

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project: vae_core, ui, scripts, bench
sys.path.insert(1, str(ROOT / "tests"))  # support.py, shared by the rooms

from vae_core.model.config import ModelConfig  # noqa: E402
from vae_core.model.mlp import VAE  # noqa: E402


@pytest.fixture
def tiny_model():
    """A small untrained model on 8x8 images, factory style: tiny_model(kind, **overrides)."""

    def make(kind="vae", **kw):
        cfg = ModelConfig(
            kind=kind, latent_dim=kw.pop("latent_dim", 3), hidden=kw.pop("hidden", (16,)), image_shape=(1, 8, 8), **kw
        )
        return VAE(cfg, generator=torch.Generator().manual_seed(0))

    return make


@pytest.fixture
def images8():
    return torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="session")
def colour_models(tmp_path_factory):
    """A tiny colour image folder under an allow-listed data root and a conv VAE, AE and KL-only
    model trained one epoch on it through the CLI (support.py), once per test session:
    {"data_root", "folder", "models" (the user-models folder), "cache", "paths" (by kind)}."""
    from support import make_colour_folder, train_colour_models

    base = tmp_path_factory.mktemp("colour")
    folder = make_colour_folder(base / "data_root" / "shapes3")
    paths = train_colour_models(folder, base / "user_models", base / "cache")
    return {
        "data_root": base / "data_root",
        "folder": folder,
        "models": base / "user_models",
        "cache": base / "cache",
        "paths": paths,
    }
