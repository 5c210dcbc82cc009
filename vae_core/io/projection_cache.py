"""Fitted maps on disk: shipped ones (read only) and the app's own cache (bounded, self-healing).

A map file is an .npz (no pickle) named <checkpoint stem>-<method>-<key>.npz, the key hashing
the checkpoint's content, the data, the parameters and the versions of the libraries that
computed it (scikit-learn, umap-learn, numpy: an upgrade changes t-SNE and UMAP embeddings, so
an old map must not be passed off as the new one).

Shipped maps live in <checkpoint dir>/projections/ and are never written by the app. The app
passes a `cache_dir` of its own for everything else; that folder is capped in bytes (least
recently used maps evicted first) and a file that cannot be read (a crash, a zip of zeros, a
hostile array header) is removed and recomputed, never raised: it is our own state.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import os
import re
import zipfile
from pathlib import Path

import numpy as np

from .atomic import atomic_write

CACHE_LIMIT_BYTES = 200 * 2**20  # default size cap of an app's cache_dir
MAX_MAP_FILE_BYTES = 64 * 2**20  # a map of 1M points is 8 MB; anything bigger is not ours
LIBRARIES = {"tsne": ("scikit-learn", "numpy"), "umap": ("umap-learn", "scikit-learn", "numpy")}
MEMBERS = ("embedding", "axis_labels", "center", "components", "fitted")


def file_digest(path) -> str:
    """Content hash of a checkpoint: the cache key survives copies and ignores mtimes. Of an ONNX
    model folder: its files' names and contents (graphs, external data, manifest)."""
    h = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            h.update(os.fsencode(file.name) + b"\0")
        with open(file, "rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=8)
def library_versions(method: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in LIBRARIES.get(method, ()):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def cache_name(checkpoint, data_key: str, method: str, params: dict) -> str:
    """The file name of a map: stem (made safe) + method + a key over content, data, params, versions."""
    checkpoint = Path(checkpoint)
    spec = {"data": data_key, "method": method, "params": params, "versions": library_versions(method)}
    key = hashlib.sha256((file_digest(checkpoint) + json.dumps(spec, sort_keys=True)).encode()).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", checkpoint.stem)[:80]
    return f"{stem}-{method}-{key}.npz"


def read_map(path: Path, n: int, d: int) -> dict | None:
    """The arrays of a map file made for n codes of size d, or None if it is absent or unusable.

    Every member is read with a byte cap derived from (n, d) and its .npy header is checked
    before numpy allocates anything, so a hostile or broken file costs what its size says.
    """
    caps = {"embedding": 16 * n + 4096, "axis_labels": 4096, "center": 8 * d + 4096, "components": 16 * d + 4096}
    caps["fitted"] = 8 * n + 4096
    try:
        if path.stat().st_size > MAX_MAP_FILE_BYTES:
            return None
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if len(names) > len(MEMBERS) or any(m[:-4] not in MEMBERS or not m.endswith(".npy") for m in names):
                return None
            arrays = {name[:-4]: _read_member(z, name, caps[name[:-4]]) for name in names}
    except Exception:  # BadZipFile, zlib.error, EOFError, OSError, ValueError...: not a usable map
        return None
    return arrays if _valid(arrays, n, d) else None


def _read_member(z: zipfile.ZipFile, name: str, cap: int) -> np.ndarray:
    with z.open(name) as f:
        raw = f.read(cap + 1)
    if len(raw) > cap:
        raise ValueError(f"{name} is larger than a map member can be")
    bio = io.BytesIO(raw)
    version = np.lib.format.read_magic(bio)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(bio)
    if dtype.hasobject or math.prod(shape) * dtype.itemsize > len(raw):
        raise ValueError(f"{name} declares more data than it holds")
    bio.seek(0)
    return np.lib.format.read_array(bio, allow_pickle=False)


def _valid(a: dict, n: int, d: int) -> bool:
    def floats(x, shape):
        return x.shape == shape and x.dtype.kind == "f" and bool(np.isfinite(x).all())

    if "embedding" not in a or "axis_labels" not in a or ("center" in a) != ("components" in a):
        return False
    labels = a["axis_labels"]
    if labels.shape != (2,) or labels.dtype.kind != "U" or labels.dtype.itemsize > 4 * 64:
        return False
    if "center" in a and not (floats(a["center"], (d,)) and floats(a["components"], (2, d))):
        return False
    if "fitted" in a and not _indices(a["fitted"], n):
        return False
    return floats(a["embedding"], (n, 2))


def _indices(x: np.ndarray, n: int) -> bool:
    """A subsample's indices: distinct, increasing, inside 0..n-1."""
    if x.ndim != 1 or x.dtype.kind not in "iu" or not 2 <= len(x) <= n:
        return False
    return bool(x[0] >= 0 and x[-1] < n and (np.diff(x) > 0).all())


def write_map(path: Path, arrays: dict) -> None:
    """Atomic write (pid-tagged temporary file, rename): two sessions never leave half a file.
    Not fsynced: a map lost to a power cut is recomputed (read_map validates everything)."""
    atomic_write(path, lambda f: np.savez(f, **arrays), durable=False)


def touch(path: Path) -> None:
    """Mark a cache hit as recently used (eviction is least recently used first)."""
    try:
        os.utime(path)
    except OSError:
        pass


def evict(folder: Path, limit: int | None, keep: Path | None = None, pattern: str = "*.npz") -> list[str]:
    """Delete the least recently used files matching `pattern` (maps by default) until they fit in `limit` bytes."""
    if limit is None:
        return []
    files = []
    for p in folder.glob(pattern):
        try:
            st = p.stat()
        except OSError:
            continue
        files.append((st.st_mtime, st.st_size, p))
    total = sum(size for _, size, _ in files)
    removed = []
    for _, size, p in sorted(files, key=lambda t: t[0]):
        if total <= limit:
            break
        if keep is not None and p == keep:
            continue
        p.unlink(missing_ok=True)
        total -= size
        removed.append(p.name)
    return removed
