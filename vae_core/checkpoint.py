"""Checkpoints: safetensors weights with JSON metadata in the same file; nothing is unpickled.

A checkpoint describes itself (after nanoGPT's `model_args`): the model config, the training
config, dataset, seed, metrics and per-epoch history travel in the safetensors header, so
`load_checkpoint(path)` rebuilds the model with no other input. Writes go to a temporary
file in the same folder, are fsynced and renamed over the target, so a crash mid-save leaves
the previous file intact.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import torch

from . import __version__
from .models import VAE, ModelConfig

FORMAT = "vae_core"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 50_000_000
PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")  # pickle protocol >= 2; torch.save's zip archive
EXTRA_PREFIX = "extra."  # tensors stored beside the weights that are not part of the model


class CheckpointError(ValueError):
    """A file that is not a loadable checkpoint; the message says why, for a person."""


def save_checkpoint(
    model: VAE, path, meta: dict | None = None, *, extras: dict | None = None, dtype: torch.dtype | None = None
) -> Path:
    """Write weights + metadata atomically (temp file, fsync, rename).

    extras: named tensors stored beside the weights as "extra.<name>" (the training film's
    codes, for one), read back with read_extras(). dtype: storage precision of the weights
    (float16 halves a shipped file; loading always gives a float32 model).
    """
    from safetensors.torch import save

    path = Path(path)
    meta = {**(meta or {}), "kind": model.config.kind, "model_config": model.config.to_dict()}
    meta["vae_core_version"] = __version__
    header = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "meta": json.dumps(_jsonable(meta))}
    tensors = {k: v.detach().cpu().to(dtype or v.dtype).contiguous().clone() for k, v in model.state_dict().items()}
    for name, t in (extras or {}).items():
        tensors[EXTRA_PREFIX + name] = torch.as_tensor(t).detach().cpu().contiguous().clone()
    blob = save(tensors, metadata=header)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a checkpoint is a shareable file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def load_checkpoint(path, device="cpu") -> tuple[VAE, dict]:
    """Rebuild a model from a checkpoint file: (float32 model in eval mode on `device`, metadata dict)."""
    path = Path(path)
    meta, config = _checked_meta(path)
    tensors = {k: v for k, v in _load_tensors(path).items() if not k.startswith(EXTRA_PREFIX)}
    if not all(t.is_floating_point() for t in tensors.values()):
        raise CheckpointError(f"{path.name}: the weights are not floating-point numbers.")
    tensors = {k: v.to(device=device, dtype=torch.float32) for k, v in tensors.items()}
    with torch.device("meta"):  # no random initialisation: it would draw from the global RNG
        model = VAE(config)
    model.load_state_dict(tensors, strict=True, assign=True)
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise CheckpointError(f"{path.name}: the weights contain NaN or infinite values.")
    model.eval()
    return model, meta


def read_extras(path) -> dict[str, torch.Tensor]:
    """The named tensors saved with `extras=` (without their prefix), on CPU; {} when there are none."""
    path = Path(path)
    header = read_header(path)
    names = [k for k in header if k.startswith(EXTRA_PREFIX)]
    if not names:
        return {}
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return {k[len(EXTRA_PREFIX) :]: f.get_tensor(k) for k in names}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path.name}: its extra data cannot be read ({e}).") from None


def read_meta(path) -> dict:
    """A checkpoint's metadata, checked against its header without reading the weights."""
    return _checked_meta(Path(path))[0]


def _checked_meta(path: Path) -> tuple[dict, ModelConfig]:
    header = read_header(path)
    meta = parse_meta(path, header)
    try:
        config = ModelConfig.from_dict(meta["model_config"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path.name}: its model settings are unusable ({e}).") from None
    check_shapes(path, header, config)
    return meta, config


def read_header(path: Path) -> dict:
    """The safetensors JSON header, after checks that need no trust in the file."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file.")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if size == 0:
            raise CheckpointError(f"{path.name}: the file is empty.")
        # A safetensors header length of 0x..80 bytes also starts with 0x80: its JSON follows at byte 8.
        if head.startswith(PICKLE_MAGIC) and f.read(1) != b"{":
            raise CheckpointError(
                f"{path.name} is a pickle (torch.save) file. Pickles can run code when loaded, so they "
                "are refused; only .safetensors checkpoints written by vae_core are accepted."
            )
        f.seek(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        if n < 2 or n > min(size - 8, MAX_HEADER_BYTES):
            raise CheckpointError(f"{path.name}: not a safetensors file, or truncated.")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise CheckpointError(f"{path.name}: the safetensors header is corrupt.") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path.name}: the safetensors header is corrupt.")
    if 8 + n + _data_length(header) > size:
        raise CheckpointError(f"{path.name}: the file is truncated ({size:,} bytes, the header promises more).")
    return header


def _data_length(header: dict) -> int:
    """End of the last tensor's bytes, as the header promises."""
    try:
        return max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except (TypeError, KeyError, IndexError, ValueError):
        raise CheckpointError("the safetensors header is corrupt.") from None


def expected_shapes(config: ModelConfig) -> dict[str, tuple]:
    """The parameter shapes a config implies, built on the meta device (no memory, no init)."""
    with torch.device("meta"):
        return {k: tuple(v.shape) for k, v in VAE(config).state_dict().items()}


def check_shapes(path: Path, header: dict, config: ModelConfig) -> None:
    """Refuse weights that do not match the model the metadata describes, before reading them."""
    stored = {
        k: tuple(v.get("shape", ()))
        for k, v in header.items()
        if k != "__metadata__" and not k.startswith(EXTRA_PREFIX) and isinstance(v, dict)
    }
    expected = expected_shapes(config)
    if stored != expected:
        bad = sorted(set(stored) ^ set(expected)) or [k for k in expected if stored[k] != expected[k]]
        k = bad[0]
        raise CheckpointError(
            f"{path.name}: the weights do not match its own description ({k}: stored "
            f"{stored.get(k, 'missing')}, the config implies {expected.get(k, 'none')})."
        )


def parse_meta(path: Path, header: dict) -> dict:
    info = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CheckpointError(f"{path.name}: a safetensors file, but not a vae_core checkpoint (no metadata).")
    try:
        version = int(info.get("format_version", "0"))
    except ValueError:
        version = -1
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path.name} was written by a newer vae_core (format {version}; this one reads up to "
            f"{FORMAT_VERSION}). Upgrade vae_core to load it."
        )
    if version < 1:
        raise CheckpointError(f"{path.name}: unknown checkpoint format version {info.get('format_version')!r}.")
    try:
        meta = json.loads(info["meta"])
    except (KeyError, TypeError, json.JSONDecodeError):
        raise CheckpointError(f"{path.name}: its metadata is corrupt.") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path.name}: its metadata is corrupt.")
    return meta


def _load_tensors(path: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path.name}: the weights cannot be read ({e}); the file may be truncated.") from None


def _jsonable(obj):
    """Metadata as strict JSON: tensors to lists, inf/nan to null (the AE's KL has no value)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return _jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
