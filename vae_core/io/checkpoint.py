"""Checkpoints: safetensors weights with JSON metadata in the same file; nothing is unpickled.

A checkpoint describes itself (after nanoGPT's `model_args`): the model config, the training
config, dataset, seed, metrics and per-epoch history travel in the safetensors header, so
`load_checkpoint(path)` rebuilds the model with no other input. Writes are atomic (vae_core.io.atomic),
so a crash mid-save leaves the previous file intact.

Loading trusts nothing: the header is validated field by field before anything is built
(vae_core.io.header), the file is read once so the header and the weights come from the same bytes
(a file replaced between two reads cannot mismatch them), and the rebuilt model is run on a small
fixed probe batch: weights that are finite but overflow (codes of 1e30) are refused here, not
later inside PCA or a plot.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .. import __version__
from ..model.mlp import VAE
from .atomic import atomic_write
from .header import (
    EXTRA_NAME,
    EXTRA_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    MAX_EXTRA_BYTES,
    MAX_EXTRAS,
    MAX_FILE_BYTES,
    MAX_HEADER_BYTES,
    MAX_RANK,
    CheckpointError,
    check_tensors,
    checked_meta,
    decode_header,
    display_name,
    expected_shapes,
    header_length,
    is_extra,
    open_regular,
    parse_meta,
    read_header,
)
from .jsonable import jsonable
from .onnx_folder import load_onnx_folder

__all__ = [
    "CheckpointError",
    "expected_shapes",
    "load_checkpoint",
    "read_extras",
    "read_header",
    "save_checkpoint",
]
STORAGE_DTYPES = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64"}
TORCH_EXTRA_DTYPES = {torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, *STORAGE_DTYPES}
# The probe (see module docstring). Trained models stay far inside these bounds: the shipped ones
# give codes within ±13 (the autoencoder's are the largest), stds up to 4, logits within ±120.
PROBE_IMAGES = 8  # fixed inputs: black, white, grey and 5 seeded uniform-noise images
MAX_ABS_CODE = 1e4  # |posterior mean| on the probe
MAX_ABS_LOGIT = 1e4  # |decoder pre-sigmoid output| at the probe's codes and at 3-sigma prior draws
MIN_LOGVAR = -100.0  # log-variance floor: below it the KL term alone is hundreds of nats per dimension
# Ceiling: a sound model may answer the probe's noise and blank images with a very wide posterior
# (Fashion's z = 2 VAE gives std 4e6 on uniform noise: "I don't know"); only e^50 and beyond is absurd.
MAX_LOGVAR = 100.0


def save_checkpoint(
    model: VAE, path, meta: dict | None = None, *, extras: dict | None = None, dtype: torch.dtype | None = None
) -> Path:
    """Write weights + metadata atomically (temp file, fsync, rename).

    extras: named tensors stored beside the weights as "extra.<name>" (the training film's
    codes, for one), read back with read_extras(). dtype: storage precision of the weights
    (float16 halves a shipped file; loading always gives a float32 model).
    """
    from safetensors.torch import save

    if dtype is not None and dtype not in STORAGE_DTYPES:
        raise ValueError(f"Weights can be stored as float16, bfloat16, float32 or float64, not {dtype}.")
    path = Path(path)
    if getattr(model.config, "arch", None) == "onnx":
        raise ValueError("An ONNX model has no weights to save here: its folder is the model (copy the folder).")
    meta = {**(meta or {}), "kind": model.config.kind, "model_config": model.config.to_dict()}
    meta["vae_core_version"] = __version__
    header = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "meta": json.dumps(jsonable(meta))}
    if len(header["meta"]) > MAX_HEADER_BYTES // 2:
        limit = MAX_HEADER_BYTES // 2
        raise ValueError(f"The metadata is {len(header['meta']):,} bytes of JSON; the limit is {limit:,}.")
    tensors = {k: v.detach().cpu().to(dtype or v.dtype).contiguous().clone() for k, v in model.state_dict().items()}
    if not all(t.dtype in STORAGE_DTYPES for t in tensors.values()):
        raise ValueError("Weights must be float16, bfloat16, float32 or float64 tensors.")
    tensors.update(_checked_extras(extras or {}))
    blob = save(tensors, metadata=header)
    return atomic_write(path, lambda f: f.write(blob))


def _checked_extras(extras: dict) -> dict[str, torch.Tensor]:
    """The extras as they will be stored, refused here if a loader would refuse them later."""
    out = {}
    for name, t in extras.items():
        t = torch.as_tensor(t).detach().cpu().contiguous().clone()
        if not isinstance(name, str) or not EXTRA_NAME.fullmatch(name):
            raise ValueError(f"Extra tensor names are 1-100 letters, digits, '_', '.', '-', not {name!r}.")
        if t.dtype not in TORCH_EXTRA_DTYPES or t.dim() > MAX_RANK:
            raise ValueError(f"Extra tensor {name!r}: {t.dtype} with {t.dim()} dimensions is not storable.")
        out[EXTRA_PREFIX + name] = t
    total = sum(t.numel() * t.element_size() for t in out.values())
    if len(out) > MAX_EXTRAS or total > MAX_EXTRA_BYTES:
        raise ValueError(f"At most {MAX_EXTRAS} extra tensors of {MAX_EXTRA_BYTES:,} bytes in all.")
    return out


def load_checkpoint(path, device="cpu") -> tuple[VAE, dict]:
    """Rebuild a model from a checkpoint file: (float32 model in eval mode on `device`, metadata dict).

    A folder is an ONNX model (vae_core.io.onnx_folder): checked, then probed like ours."""
    path = Path(path)
    if path.is_dir():
        return load_onnx_folder(path, device, probe=check_outputs)
    name = display_name(path)
    blob, header = _read_whole(path)
    meta, config = parse_meta(name, header)
    check_tensors(name, header, config)
    tensors = {k: v for k, v in _tensors(name, blob).items() if not is_extra(k)}
    del blob
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise CheckpointError(f"{name}: the weights contain NaN or infinite values.")
    try:
        tensors = {k: v.to(device=device, dtype=torch.float32) for k, v in tensors.items()}
        with torch.device("meta"):  # no random initialisation: it would draw from the global RNG
            model = VAE(config)
        model.load_state_dict(tensors, strict=True, assign=True)
    except (RuntimeError, ValueError, TypeError) as e:  # unreachable after the checks; never a traceback
        raise CheckpointError(f"{name}: the weights cannot be used ({_first_line(e)}).") from None
    model.eval()
    check_outputs(name, model)
    return model, meta


def read_extras(path) -> dict[str, torch.Tensor]:
    """The named tensors saved with `extras=` (without their prefix), on CPU; {} when there are none."""
    path = Path(path)
    header = checked_meta(path)[2]  # a file the loader would refuse gives no extras either
    if not any(is_extra(k) for k in header):
        return {}
    name = display_name(path)
    blob, header = _read_whole(path)
    check_tensors(name, header, parse_meta(name, header)[1])
    return {k[len(EXTRA_PREFIX) :]: v for k, v in _tensors(name, blob).items() if is_extra(k)}


@torch.inference_mode()
def check_outputs(name: str, model: VAE) -> None:
    """Refuse a model whose outputs on a fixed probe batch are non-finite or absurdly large."""
    cfg = model.config
    device = next(model.parameters(), torch.empty(0)).device  # an ONNX model has no parameters: CPU
    noise = torch.rand((PROBE_IMAGES - 3, *cfg.image_shape), generator=torch.Generator().manual_seed(0))
    levels = torch.tensor([0.0, 1.0, 0.5]).view(3, 1, 1, 1).expand(3, *cfg.image_shape)
    post = model.encode(torch.cat([levels, noise]).to(device))
    if not (torch.isfinite(post.mean).all() and post.mean.abs().max() <= MAX_ABS_CODE):
        raise CheckpointError(f"{name}: the encoder's codes are not finite or exceed ±{MAX_ABS_CODE:g} on test inputs.")
    lv = post.logvar
    spread_ok = torch.isfinite(lv).all() and lv.min() >= MIN_LOGVAR and lv.max() <= MAX_LOGVAR
    if not post.deterministic and not spread_ok:
        raise CheckpointError(
            f"{name}: the encoder's spreads are not finite or outside [e^{MIN_LOGVAR / 2:g}, "
            f"e^{MAX_LOGVAR / 2:g}] on test inputs."
        )
    prior = 3 * torch.randn(PROBE_IMAGES, cfg.latent_dim, generator=torch.Generator().manual_seed(0))
    logits = model.decode_logits(torch.cat([post.mean, prior.to(device)]))
    if not (torch.isfinite(logits).all() and logits.abs().max() <= MAX_ABS_LOGIT):
        raise CheckpointError(
            f"{name}: the decoder's outputs are not finite or exceed ±{MAX_ABS_LOGIT:g} on test codes."
        )


def _read_whole(path: Path) -> tuple[bytes, dict]:
    """The file's bytes, read once, and its validated header."""
    name = display_name(path)
    f, size = open_regular(path)
    if size > MAX_FILE_BYTES:
        f.close()
        mb = size / 2**20
        raise CheckpointError(f"{name} is {mb:,.0f} MB; checkpoints over {MAX_FILE_BYTES >> 20:,} MB are refused.")
    try:
        with f:
            blob = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise CheckpointError(f"{name}: the file cannot be read ({e.strerror or e}).") from None
    n = header_length(name, blob[:9], len(blob))
    return blob, decode_header(name, blob[8 : 8 + n], len(blob) - 8 - n)


def _tensors(name: str, blob: bytes) -> dict[str, torch.Tensor]:
    from safetensors.torch import load

    try:
        return load(blob)
    except Exception as e:  # the library's own checks, after ours: still one line
        raise CheckpointError(f"{name}: the weights cannot be read ({_first_line(e)}).") from None


def _first_line(e: BaseException) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0][:200]
