"""A checkpoint's weights as numpy arrays, without torch: what the browser's decoder needs.

The header is validated first (vae_core.io.header), exactly as load_checkpoint does, then the
tensors are read by safetensors' numpy reader. bfloat16 has no numpy type: such a file is
answered with None and the caller loads the model with torch instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..model.config import ModelConfig, layer_sizes
from .header import EXTRA_PREFIX, MAX_FILE_BYTES, CheckpointError, check_tensors, display_name, parse_meta, read_header


def _tensors(path: Path) -> tuple[ModelConfig, dict[str, np.ndarray]] | None:
    """(config, every tensor of the file as numpy) after the header's checks; None for bfloat16."""
    from safetensors.numpy import load

    name = display_name(path)
    header = read_header(path)
    meta, config = parse_meta(name, header)
    check_tensors(name, header, config)
    if any(v["dtype"] == "BF16" for k, v in header.items() if k != "__metadata__"):
        return None
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CheckpointError(f"{name} is larger than a checkpoint may be.")
    try:
        return config, load(path.read_bytes())
    except Exception as e:  # the library's own checks, after ours: one line
        raise CheckpointError(f"{name}: the weights cannot be read ({str(e)[:200]}).") from None


def read_extras(path) -> dict[str, np.ndarray] | None:
    """The tensors saved with `extras=` (a training film), without their prefix, as numpy; {} when
    there are none, None for a bfloat16 file (vae_core.io.checkpoint.read_extras reads it with torch).
    The Latent map asks on its first run: importing torch for it cost the first page a second."""
    path = Path(path)
    if not any(k.startswith(EXTRA_PREFIX) for k in read_header(path)):
        return {}
    read = _tensors(path)
    if read is None:
        return None
    return {k[len(EXTRA_PREFIX) :]: v for k, v in read[1].items() if k.startswith(EXTRA_PREFIX)}


def read_weights(path) -> tuple[ModelConfig, dict[str, np.ndarray]] | None:
    """(config, {name: float32 array}) of a checkpoint's model weights, or None for bfloat16 weights."""
    path = Path(path)
    name = display_name(path)
    read = _tensors(path)
    if read is None:
        return None
    config, tensors = read
    weights = {k: v.astype(np.float32) for k, v in tensors.items() if not k.startswith(EXTRA_PREFIX)}
    if not all(np.isfinite(v).all() for v in weights.values()):
        raise CheckpointError(f"{name}: the weights contain NaN or infinite values.")
    return config, weights


def mlp_decoder(path) -> tuple[list[tuple[np.ndarray, np.ndarray]], ModelConfig] | None:
    """The decoder's Linear layers [(W [out, in], b [out]), ...] input first, and the config; None
    when the weights are bfloat16 or the decoder is not an MLP (the conv family: read it through
    torch, whose layer list vae_core.model.plan.network_plan describes)."""
    read = read_weights(path)
    if read is None or read[0].arch != "mlp":
        return None
    config, weights = read
    n_layers = len(layer_sizes(config)["decoder"]) - 1
    return [(weights[f"decoder.{2 * i}.weight"], weights[f"decoder.{2 * i}.bias"]) for i in range(n_layers)], config
