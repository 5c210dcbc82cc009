"""A model's codes of a dataset on disk, content-addressed: encoded once, read back in milliseconds.

A file holds the posterior means and log-variances [2, N, D] as float16 (float32 where a code
does not fit float16's range), as one .npy read back memory-mapped. Its name is a hash of the
model's content digest, the data's content digest and the code size, so a retrained model or
changed data never meet stale codes, and two processes encoding the same pair write the same
name (atomically: readers see a whole file or none). The folder is the caller's (the app passes
its cache), capped in bytes with the least recently used files evicted first; a file that
cannot be read as what its name promises is removed and the codes encoded again.

float16 keeps 11 significant bits: a code of magnitude 4 is stored to within 0.002, far below
what a map shows and below the posterior's own spread (σ is 0.1-1 on these models).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .projection_cache import evict, touch

FORMAT = "codes/1"  # part of every key: a new layout never reads an old file
CACHE_LIMIT_BYTES = 4 * 2**30  # a million 16-D codes are 64 MB; dozens of such maps fit
HALF_MAX = 65504.0  # float16's largest finite value


def data_digest(data, batch: int = 65_536) -> str:
    """A content digest of a dataset's images, labels and class names.

    A dataset that knows its own (`data.digest`: a generated one, named by its generator's
    inputs) gives that; otherwise the images are hashed batch by batch as the bytes they are
    indexed to (a 54,000-image tensor: ~0.3 s), never all at once."""
    own = getattr(data, "digest", None)
    if isinstance(own, str) and own:
        return own
    h = hashlib.sha256(f"{data.name}|{data.split}|{tuple(data.images.shape)}|{data.classes}".encode())
    for a in range(0, len(data), batch):
        block = data.images[a : a + batch]
        h.update(np.ascontiguousarray(block.numpy() if hasattr(block, "numpy") else block).tobytes())
    h.update(np.ascontiguousarray(np.asarray(data.labels), dtype=np.int64).tobytes())
    return h.hexdigest()


def cache_key(model_digest: str, data_digest: str, latent_dim: int) -> str:
    spec = f"{FORMAT}|{model_digest}|{data_digest}|{int(latent_dim)}"
    return hashlib.sha256(spec.encode()).hexdigest()[:32]


def path_of(folder, key: str) -> Path:
    return Path(folder) / f"codes-{key}.npy"


def read(folder, key: str, n: int, d: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, logvar) float32 [n, d] stored under `key`, or None (absent or unusable: then removed)."""
    path = path_of(folder, key)
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
        ok = arr.dtype in (np.float16, np.float32) and arr.shape == (2, n, d)
        if ok:
            mean, logvar = np.asarray(arr[0], np.float32), np.asarray(arr[1], np.float32)
            ok = bool(np.isfinite(mean).all()) and not np.isnan(logvar).any()
    except (OSError, ValueError, EOFError):
        ok = False
    if not ok:
        if path.exists():
            path.unlink(missing_ok=True)
        return None
    touch(path)
    return mean, logvar


def stored(mean: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """The codes as a file holds them: [2, N, D] float16 when every finite value fits, else float32."""
    big = max(float(np.abs(mean).max(initial=0.0)), float(np.abs(logvar[np.isfinite(logvar)]).max(initial=0.0)))
    out = np.empty((2, *mean.shape), np.float16 if big < HALF_MAX else np.float32)
    out[0], out[1] = mean, logvar
    return out


def write(folder, key: str, codes: np.ndarray, limit: int | None = CACHE_LIMIT_BYTES) -> Path:
    """Store `stored(...)` codes under `key`; evicts the least recently used files beyond `limit`."""
    path = path_of(folder, key)
    atomic_write(path, lambda f: np.save(f, codes, allow_pickle=False), durable=False)
    evict(Path(folder), limit, keep=path, pattern="codes-*.npy")
    return path
