"""Which models there are and loading them: the registry, cached models, the job queue.

Models: st.cache_resource keyed by a ModelRef (path + modification time), eval mode, shared
read-only across sessions. The registry itself reads headers only (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from ui import settings
from vae_core.data import catalog
from vae_core.io import registry


@dataclass(frozen=True)
class ModelRef:
    """This model file, at this version, on this dataset: the key of everything cached about it.

    `mtime` makes a retrained file a new model; `data` names the dataset whose images are encoded
    ("" where the data does not matter, as for loading the weights)."""

    path: str
    mtime: float
    data: str = ""

    @classmethod
    def of(cls, entry, data: str = "") -> ModelRef:
        return cls(str(entry.path), entry.mtime, data)

    def on(self, data: str) -> ModelRef:
        return replace(self, data=data)

    @property
    def file(self) -> ModelRef:
        """The same file with no dataset: the key of its weights, its film, its decoder."""
        return replace(self, data="")


def model_entries() -> list[registry.ModelEntry]:
    """Every checkpoint and ONNX model folder in the shipped and the user's folders (their onnx/
    subfolders too), usable or not with the reason; bounded (registry.MAX_ONNX_FOLDERS a folder)."""
    return registry.scan(settings.shipped_dir(), settings.user_dir(), onnx=True)


def load_model(ref: ModelRef):
    """(model, meta) of the file `ref` names (whatever its dataset), loaded once per file version."""
    return _load(ref.file)


@st.cache_resource(max_entries=16, show_spinner="Loading model…")
def _load(ref: ModelRef):
    """Frozen: the model is shared across sessions, nothing may train or mutate it."""
    import vae_core  # torch: imported on the first load, not when the model list is drawn

    model, meta = vae_core.load_checkpoint(ref.path)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, meta


@st.cache_resource
def job_manager():
    """One queue per server process: jobs survive page switches, refreshes and new tabs."""
    from vae_core.runs import jobs  # torch: only the Train page needs it

    return jobs.JobManager(protected_dirs=[settings.shipped_dir()])


def compatible_datasets(entry) -> list[str]:
    """Datasets here whose images have the model's shape, the model's own first. A checkpoint's
    `dataset` field is only a hint: it is offered only if it exists, is here and fits; an image
    folder only under the allow-listed root, decoded at the model's form (data.folder_key)."""
    from ui.services.data import folder_key

    folder = folder_key(entry.dataset, entry.image_shape) if entry.format != "onnx" else None
    names, known = [folder] if folder else [], (*catalog.DATASETS, *settings.synthetic_datasets())
    for name in (entry.dataset, *known):
        if name in known and name not in names and _available(name, entry.image_shape):
            names.append(name)
    return names


def own_data(entry) -> str:
    """The app's name of the data the model was trained on: an image folder at the model's form
    (data.folder_key; "" when it is not under the allow-listed root), else the header's dataset."""
    from ui.services.data import folder_key

    if entry.dataset.startswith(catalog.FOLDER_PREFIX):
        return folder_key(entry.dataset, entry.image_shape) or ""
    return entry.dataset


@st.cache_data(show_spinner=False)
def _available(name: str, shape: tuple) -> bool:
    return tuple(shape) == catalog.image_shape(name) and catalog.is_available(name, settings.data_root())


def model_trios(image_shape, dataset: str | None = None, prefer_format: str = "safetensors") -> dict[int, dict]:
    """{latent size: {"ae": entry, "kl": entry, "vae": entry}} for sizes that have all three kinds
    (shipped ones preferred, else the newest of yours), on images of `image_shape` and trained on
    `dataset` (a Fashion VAE is not compared with MNIST autoencoders).

    A trio is made of one format: our checkpoints, or ONNX model folders (three that share a
    dataset). Ours come first, so an ONNX export of a shipped model never displaces the
    original; an ONNX trio is shown where the picked model is ONNX (`prefer_format`) or where
    there is no trio of ours at that size."""
    by_format: dict[str, dict[int, dict]] = {"safetensors": {}, "onnx": {}}
    ranked = sorted(
        (
            e
            for e in model_entries()
            if e.ok and e.image_shape == tuple(image_shape) and (dataset is None or e.dataset == dataset)
        ),
        key=lambda e: (e.source != "shipped", -e.mtime),
    )
    for e in ranked:
        by_format.setdefault(e.format, {}).setdefault(e.latent_dim, {}).setdefault(e.kind, e)
    order = ["onnx", "safetensors"] if prefer_format == "onnx" else ["safetensors", "onnx"]
    trios: dict[int, dict] = {}
    for fmt in order:
        for d, t in by_format.get(fmt, {}).items():
            if d not in trios and {"ae", "kl", "vae"} <= set(t):
                trios[d] = {k: t[k] for k in ("ae", "kl", "vae")}
    return trios


def beta_sets(image_shape, dataset: str | None = None) -> dict[int, dict]:
    """{latent size: {"beta1": entry, "beta4": entry, ...}}: our VAEs trained on `dataset` at one latent
    size with two or more values of β (shipped ones preferred, else the newest of yours; sorted
    by β) — what Compare shows where there is no AE / KL-only / VAE trio (shapes: a VAE and the
    β-VAE paper's β = 4)."""
    ranked = sorted(
        (
            e
            for e in model_entries()
            if e.ok and e.kind == "vae" and e.format == "safetensors" and e.source != "sweep"
            and e.image_shape == tuple(image_shape) and (dataset is None or e.dataset == dataset)
        ),
        key=lambda e: (e.source != "shipped", -e.mtime),
    )  # fmt: skip
    by_size: dict[int, dict[float, object]] = {}
    for e in ranked:
        by_size.setdefault(e.latent_dim, {}).setdefault(float(e.meta["model_config"].get("beta", 1.0)), e)
    return {
        d: {f"beta{b:g}".replace(".", "_"): found[b] for b in sorted(found)}
        for d, found in sorted(by_size.items())
        if len(found) >= 2
    }


@st.cache_data(max_entries=16, show_spinner=False)
def film(ref: ModelRef) -> dict | None:
    """The training film stored with a checkpoint (codes [E, M, D], epochs), or None without one
    (an ONNX model folder has none)."""
    from pathlib import Path

    from vae_core.io.header import CheckpointError
    from vae_core.io.weights import read_extras  # numpy: the first page's run never waits for torch

    if Path(ref.path).is_dir():
        return None
    try:
        extras = read_extras(ref.path)
        if extras is None:  # bfloat16: numpy has no such type, torch reads it
            from vae_core.io.checkpoint import read_extras as torch_extras

            extras = {k: v.float().numpy() for k, v in torch_extras(ref.path).items()}
    except CheckpointError:
        return None
    if "film_codes" not in extras or "film_epochs" not in extras:
        return None
    return {"codes": np.asarray(extras["film_codes"], np.float32), "epochs": np.asarray(extras["film_epochs"]).tolist()}
