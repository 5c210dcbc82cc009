"""Where the data sets' decoded forms are cached on disk, and how a cached array is read back.

One root for the engine's and the app's own state: $VAE_EXPLORER_CACHE, else
$XDG_CACHE_HOME/vae-explorer (~/.cache/vae-explorer). Data sets use `cache_root() / "data"`.
The cache is our own state, but a disk can be full, a file truncated or replaced: every array
is read back with its dtype and shape checked against what was written (`open_array`), and a
mismatch is a cache miss (the data are decoded or generated again), never a wrong answer.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._atomic import atomic_write

ENV = "VAE_EXPLORER_CACHE"


def cache_root() -> Path:
    """The cache root: $VAE_EXPLORER_CACHE, else $XDG_CACHE_HOME/vae-explorer, else ~/.cache/vae-explorer."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vae-explorer"


def data_cache_dir(part: str) -> Path:
    return cache_root() / "data" / part


def open_array(path: Path, dtype, shape: tuple) -> np.ndarray | None:
    """A cached .npy, memory-mapped read-only, if it is exactly `dtype` and `shape`; else None."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):  # missing, truncated, not .npy
        return None
    if not isinstance(arr, np.ndarray) or arr.dtype != np.dtype(dtype) or tuple(arr.shape) != tuple(shape):
        return None
    return arr


def write_array(path: Path, fill, dtype, shape: tuple) -> None:
    """Write an .npy atomically: `fill(out)` writes into a memory-mapped [shape] array of the
    temporary file, chunk by chunk (the whole array never needs to be in memory)."""

    def write(f):
        header = np.lib.format
        header.write_array_header_1_0(f, {"descr": header.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                                          "shape": tuple(shape)})  # fmt: skip
        offset = f.tell()
        f.truncate(offset + int(np.prod(shape)) * np.dtype(dtype).itemsize)
        f.flush()
        out = np.memmap(f, dtype=dtype, mode="r+", offset=offset, shape=tuple(shape))
        fill(out)
        out.flush()
        del out

    atomic_write(path, write, durable=False)
