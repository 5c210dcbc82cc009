"""The sample-judging classifier's files (vae_core.model.classifier).

Safetensors with the metadata in the header (dataset, image shape, classes, validation accuracy,
config), read with the same checks as model checkpoints: pickles and malformed files are refused
with a CheckpointError, nothing is unpickled.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from ..model.classifier import Classifier, ClassifierConfig
from .atomic import atomic_write
from .header import CheckpointError, read_header, strict_json

FORMAT = "vae_core.classifier"
FORMAT_VERSION = 1
ALIASES = {"mnist": "mnist5k"}  # the same digits: the mnist5k classifier judges full-MNIST models too


def save_classifier(model: Classifier, path, meta: dict) -> Path:
    """Write weights + metadata (dataset, classes, accuracy...) atomically; never pickles."""
    from safetensors.torch import save

    path = Path(path)
    meta = {**meta, "image_shape": list(model.image_shape), "config": asdict(model.config)}
    header = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "meta": json.dumps(meta, allow_nan=False)}
    blob = save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, metadata=header)
    return atomic_write(path, lambda f: f.write(blob))


def load_classifier(path) -> tuple[Classifier, dict]:
    """(classifier in eval mode on CPU, metadata); a CheckpointError with the reason for a bad file."""
    path = Path(path)
    header = read_header(path)  # pickles, truncation, corrupt headers: refused as for models
    meta = _parse_meta(path, header)
    try:
        config = ClassifierConfig.from_dict(meta["config"])
        with torch.device("meta"):  # shapes only: no memory, no draw from the global RNG
            model = Classifier(config, meta["image_shape"], len(meta["classes"]))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path.name}: its classifier settings are unusable ({e}).") from None
    expected = {k: list(v.shape) for k, v in model.state_dict().items()}
    stored = {k: v.get("shape") for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}
    if stored != expected:
        raise CheckpointError(f"{path.name}: the weights do not match the classifier its metadata describes.")
    tensors = _load_tensors(path)
    if not all(t.dtype in (torch.float32, torch.float16, torch.bfloat16) for t in tensors.values()):
        raise CheckpointError(f"{path.name}: the weights are not floating-point numbers.")
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise CheckpointError(f"{path.name}: the weights contain NaN or infinite values.")
    model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=True, assign=True)
    return model.eval(), meta


def _parse_meta(path: Path, header: dict) -> dict:
    info = header.get("__metadata__")
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        what = (
            "a vae_core model checkpoint" if isinstance(info, dict) and info.get("format") == "vae_core" else "a file"
        )
        raise CheckpointError(f"{path.name}: {what}, but not a vae_core classifier.")
    if info.get("format_version") != str(FORMAT_VERSION):
        raise CheckpointError(
            f"{path.name}: classifier format {info.get('format_version')!r}; this vae_core reads {FORMAT_VERSION}."
        )
    try:
        meta = strict_json(info["meta"])
    except (KeyError, TypeError, ValueError, RecursionError):
        raise CheckpointError(f"{path.name}: its metadata is corrupt.") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path.name}: its metadata is corrupt.")
    shape, classes = meta.get("image_shape"), meta.get("classes")
    ok_shape = isinstance(shape, list) and len(shape) == 3 and all(isinstance(s, int) and 0 < s <= 4096 for s in shape)
    ok_classes = isinstance(classes, list) and 2 <= len(classes) <= 10_000 and all(isinstance(c, str) for c in classes)
    if not (ok_shape and ok_classes and isinstance(meta.get("config"), dict)):
        raise CheckpointError(f"{path.name}: its metadata lacks a valid image shape, class list or config.")
    return meta


def _load_tensors(path: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path.name}: the weights cannot be read ({e}).") from None


def classifier_for(dataset: str, folder) -> Path | None:
    """The shipped classifier file for a dataset name (`folder`/NAME.safetensors), or None."""
    path = Path(folder) / f"{ALIASES.get(dataset, dataset)}.safetensors"
    return path if path.is_file() else None
