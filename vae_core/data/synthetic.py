"""`synthetic:N`: N MNIST-style digits generated from mnist5k's 4,500 training digits, for maps
at the size of real image folders (a million points) before such folders are here.

Digit i is a training digit drawn at random (so an index says nothing about where a digit
lands on a map), shifted by up to ±3 pixels in each direction (zero
fill), its ink scaled by 0.75-1.0 and speckled with faint noise, all drawn from a seeded
numpy Generator: the same N give the same images on every machine. Labels are the source
digit's. A million images are 784 MB as bytes and 3.1 GB as floats, so they are kept as
uint8 (memory-mapped from the on-disk cache when one is given) behind vae_core.data.store's
`ByteImages`, which hands out float32 batches when indexed, as the engine's encoders and Trainer
slice them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .catalog import SYNTHETIC_MAX, SYNTHETIC_PREFIX

SHIFT = 3  # pixels, each direction
BATCH = 65_536  # images generated at once (51 MB of bytes)
VERSION = "1"  # bump when the generator changes: cached files are named by it


def parse(name: str) -> int:
    """ "synthetic:1000000" -> 1000000; ValueError with one line for anything else."""
    text = name[len(SYNTHETIC_PREFIX) :] if name.startswith(SYNTHETIC_PREFIX) else ""
    if not text.isdigit() or not 1 <= int(text) <= SYNTHETIC_MAX:
        raise ValueError(f"A generated dataset is named synthetic:N with N from 1 to {SYNTHETIC_MAX:,}, not {name!r}.")
    return int(text)


def cache_folder() -> Path:
    """Where generated images are kept: $VAE_EXPLORER_CACHE/data, else ~/.cache/vae-explorer/data."""
    env = os.environ.get("VAE_EXPLORER_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vae-explorer"
    return base / "data"


def digest(name: str, seed: int = 0) -> str:
    """What the images of `name` are, without making them: the generator's inputs."""
    return hashlib.sha256(f"synthetic/{VERSION}/{parse(name)}/{seed}".encode()).hexdigest()


def _paths(name: str, folder: Path | None, seed: int) -> tuple[Path, Path]:
    stem = f"synthetic-{VERSION}-{parse(name)}-{seed}"
    folder = cache_folder() if folder is None else Path(folder)
    return folder / f"{stem}.npy", folder / f"{stem}-labels.npy"


def on_disk(name: str, folder: Path | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """(images uint8 [N, 1, 28, 28] memory-mapped, labels int64 [N]) of `name` when both are on
    disk as we wrote them, else None. No torch: a map of generated digits draws without it."""
    n = parse(name)
    images_path, labels_path = _paths(name, folder, seed)
    try:
        rows = np.load(images_path, mmap_mode="r", allow_pickle=False)
        labels = np.load(labels_path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    ok = rows.dtype == np.uint8 and rows.shape == (n, 1, 28, 28) and labels.dtype == np.int64 and labels.shape == (n,)
    return (rows, labels) if ok and 0 <= labels.min() and labels.max() <= 9 else None


def is_generated(name: str, folder: Path | None = None, seed: int = 0) -> bool:
    """Whether `name`'s images are on disk already (loading them is then instant)."""
    return on_disk(name, folder, seed) is not None


def generated(name: str, source, source_labels, folder: Path | None = None, seed: int = 0):
    """(ByteImages, labels int64 [N], content digest) of `name` (synthetic:N), made from `source`
    float digits [M, 1, 28, 28] (mnist5k's training split) and their labels."""
    n = parse(name)
    digits = (source.numpy() * 255).round().astype(np.uint8)[:, 0]
    pick = np.random.Generator(np.random.PCG64(seed)).integers(0, len(digits), n)
    import torch

    labels = torch.from_numpy(source_labels.numpy()[pick].astype(np.int64))
    images_path, labels_path = _paths(name, folder, seed)
    rows = _cached(images_path, lambda out: generate(digits, pick, out, seed + 1), n)
    try:
        np.save(labels_path, labels.numpy())  # for torch-free readers (on_disk)
    except OSError:
        pass
    from .store import ByteImages  # torch: here, not at import (digest() is read by torch-free pages)

    return ByteImages(rows, rows.shape[1:]), labels, digest(name, seed)


def generate(source: np.ndarray, pick: np.ndarray, out: np.ndarray, seed: int = 1) -> None:
    """Fill out [N, 1, 28, 28] uint8 with shifted, rescaled, speckled copies of source[pick] ([M, 28, 28])."""
    rng = np.random.Generator(np.random.PCG64(seed))
    side = source.shape[1]
    padded = np.pad(source, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT)))
    for a in range(0, len(out), BATCH):
        b = min(a + BATCH, len(out))
        idx = pick[a:b]
        dx, dy = rng.integers(-SHIFT, SHIFT + 1, (2, b - a))
        ink = rng.integers(192, 257, b - a).astype(np.uint16)  # x/256: 0.75-1.0
        batch = np.empty((b - a, side, side), np.uint8)
        for sx in range(-SHIFT, SHIFT + 1):  # one slice per shift: 49 vectorised copies, not N loops
            for sy in range(-SHIFT, SHIFT + 1):
                rows = np.flatnonzero((dx == sx) & (dy == sy))
                top, left = SHIFT - sy, SHIFT - sx
                batch[rows] = padded[idx[rows], top : top + side, left : left + side]
        batch = ((batch * ink[:, None, None]) >> 8).astype(np.uint8)
        flat = batch.reshape(-1)
        spots = rng.integers(0, flat.size, flat.size // 50)  # 2% of the pixels get faint speckle
        flat[spots] = np.maximum(flat[spots], rng.integers(0, 24, len(spots), dtype=np.uint8))
        out[a:b, 0] = batch


def _cached(path: Path, fill, n: int) -> np.ndarray:
    """The [n, 1, 28, 28] uint8 file at `path`, generated first when it is missing or not what we wrote."""
    shape = (n, 1, 28, 28)
    try:
        rows = np.load(path, mmap_mode="r", allow_pickle=False)
        if rows.dtype == np.uint8 and rows.shape == shape:
            return rows
    except (OSError, ValueError, EOFError):
        pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        fill(out)
        out.flush()
        del out
        os.replace(tmp, path)
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except OSError:  # a read-only or full disk: in memory instead
        tmp.unlink(missing_ok=True)
        rows = np.empty(shape, np.uint8)
        fill(rows)
        return rows
