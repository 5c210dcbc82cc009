"""An ONNX model folder (format "vae-explorer-onnx/1", vae_core.model.onnx_config): described
cheaply for the registry, loaded in full for use.

Describing (the registry, on every rerun of the app) reads model.json and parses both graphs'
protobufs (vae_core.io.onnx_graph), without torch or onnxruntime and without reading external
data. Loading does every check first, then builds the onnxruntime sessions from self-contained
bytes and runs the same fixed probe batch as for our checkpoints, under a time limit: outputs
that are not finite, absurdly large, of the wrong shape, probabilities outside [0, 1], or a run
longer than PROBE_SECONDS refuse the model before anyone uses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..model.onnx_config import DECODER, ENCODER, MANIFEST, OnnxConfig
from .header import CheckpointError, printable
from .onnx_graph import check_graph, read_bounded

MAX_MANIFEST_BYTES = 64 * 2**10  # model.json; a real one is under 1 KB
PROBE_SECONDS = 10.0  # both graphs on the probe batch (8 images, 16 codes); the recipe's MLP takes ~1 ms
FILES = (MANIFEST, ENCODER, DECODER)


def is_model_folder(path: Path) -> bool:
    """A folder that looks meant as an ONNX model (any of its three files is there)."""
    try:
        return path.is_dir() and any((path / f).exists() for f in FILES)
    except OSError:
        return False


def stamp(folder: Path) -> tuple[float, int]:
    """(latest mtime, total size) of the folder and its three files: a cache key that changes
    when any of them is rewritten."""
    mtime, size = 0.0, 0
    for p in (folder, *(folder / f for f in FILES)):
        try:
            st = p.stat()
        except OSError:
            continue
        mtime, size = max(mtime, st.st_mtime), size + (st.st_size if p != folder else 0)
    return mtime, size


def read_config(folder: Path) -> OnnxConfig:
    """model.json, checked (CheckpointError naming the folder and the field)."""
    name = printable(folder.name)
    if not folder.is_dir():
        raise CheckpointError(f"{printable(str(folder), 300)}: no such model folder.")
    missing = [f for f in FILES if not (folder / f).exists()]
    if missing:
        raise CheckpointError(
            f"{name}: no {', '.join(missing)}; an ONNX model folder holds encoder.onnx, decoder.onnx and "
            "model.json (README, 'Your own model')."
        )
    root = folder.resolve()
    for f in FILES:
        if not (folder / f).resolve().is_relative_to(root):
            raise CheckpointError(f"{name}/{f} is a link leading out of the model folder; copy the file in.")
    raw = read_bounded(f"{name}/{MANIFEST}", folder / MANIFEST, MAX_MANIFEST_BYTES)
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError):
        raise CheckpointError(f"{name}/{MANIFEST} is not valid JSON.") from None
    try:
        return OnnxConfig.from_manifest(manifest)
    except ValueError as e:
        raise CheckpointError(f"{name}/{MANIFEST}: {printable(str(e), 300)}.") from None


def check_folder(folder: Path, inline: bool) -> tuple[OnnxConfig, bytes | None, bytes | None]:
    """Every check that runs nothing: (config, encoder bytes, decoder bytes) (bytes with `inline`)."""
    config = read_config(folder)
    return config, check_graph(folder, ENCODER, config, inline), check_graph(folder, DECODER, config, inline)


def folder_meta(config: OnnxConfig) -> dict:
    """The meta of an ONNX model, shaped like a checkpoint's (kind, dataset, model_config, ...)."""
    return {
        "format": "onnx",
        "kind": config.kind,
        "dataset": config.dataset,
        "name": config.name,
        "description": config.description,
        "model_config": config.to_dict(),
        "manifest": config.manifest(),
    }


def describe_folder(folder) -> dict:
    """The registry's view: checked manifest and graphs, no external data read, nothing run."""
    folder = Path(folder)
    return folder_meta(check_folder(folder, inline=False)[0])


def load_onnx_folder(folder, device="cpu", probe: Callable | None = None):
    """(OnnxVAE in eval mode, meta) after every check; `probe(name, model)` raises CheckpointError
    on bad outputs (vae_core.io.checkpoint.check_outputs: the same probe as for our models)."""
    from ..model.onnx_vae import OnnxRunError, OnnxVAE

    folder = Path(folder)
    name = printable(folder.name)
    config, encoder, decoder = check_folder(folder, inline=True)
    try:
        model = OnnxVAE(config, encoder, decoder, device)
        model.time_limit = PROBE_SECONDS
        try:
            _check_probs(name, model)  # first: out-of-range "probabilities" would only show as NaN logits
            if probe is not None:
                probe(name, model)
        finally:
            model.time_limit = None
    except OnnxRunError as e:
        raise CheckpointError(f"{name}: {e}.") from None
    meta = folder_meta(config)
    meta["onnx"] = {"encoder_bytes": len(encoder), "decoder_bytes": len(decoder), "providers": model.providers}
    return model, meta


def _check_probs(name: str, model) -> None:
    """A decoder said to give probabilities must give numbers in [0, 1] (on the probe's codes)."""
    import torch

    if model.config.decoder_output != "probs":
        return
    z = torch.randn(16, model.config.latent_dim, generator=torch.Generator().manual_seed(0))
    p = model.decode_raw(z)
    if not (torch.isfinite(p).all() and p.min() >= 0 and p.max() <= 1):
        raise CheckpointError(
            f'{name}: model.json says decoder_output "probs", but the decoder gives values outside [0, 1] '
            '(use "logits" if it ends before its sigmoid).'
        )
