"""Encoding a whole dataset: in batches, with progress, cancellable, cached on disk.

A million 28x28 images encode in about a minute on two cores; a page (or a notebook) must be
able to follow that, stop it, and never pay it twice. `encode_dataset` reads the images batch
by batch as the dataset hands them out (a float tensor, or compact bytes indexed to floats), so
the floats of the whole set never exist at once; `encode_cached` looks the codes up first in a
content-addressed file (vae_core.io.code_cache: the model's digest, the data's digest) and
stores them after a complete run, never after a cancelled one.

    mean, logvar = encode_cached(model, data, model_digest, folder, progress=print)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from ..io import code_cache
from .cancel import Cancelled

__all__ = ["BATCH", "Cancelled", "Rate", "encode_cached", "encode_dataset"]

BATCH = 4096  # images per forward pass: large enough to keep the matmuls busy, ~13 MB of floats at 28x28


def encode_dataset(
    model,
    images,
    batch_size: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances (float32 [N, D] each) of `images`: anything with len()
    that slices to float [n, C, H, W] in [0, 1]. progress(done, total) after every batch;
    should_stop() is asked before every batch and raises Cancelled when it says so."""
    n = len(images)
    mean = logvar = None
    with torch.inference_mode():
        for a in range(0, n, batch_size):
            if should_stop is not None and should_stop():
                raise Cancelled(f"stopped after {a:,} of {n:,} images")
            x = images[a : a + batch_size]
            post = model.encode(torch.as_tensor(x, dtype=torch.float32))
            if mean is None:  # the code size is known after the first batch
                mean = np.empty((n, post.mean.shape[1]), np.float32)
                logvar = np.empty_like(mean)
            b = a + len(x)
            mean[a:b] = post.mean.float().numpy()
            logvar[a:b] = post.logvar.float().numpy()
            if progress is not None:
                progress(b, n)
    if mean is None:
        raise ValueError("There are no images to encode.")
    return mean, logvar


def encode_cached(
    model,
    data,
    model_digest: str,
    folder=None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = BATCH,
) -> tuple[np.ndarray, np.ndarray]:
    """encode_dataset(model, data.images) through the code cache in `folder` (None: no cache).
    With a cache, the codes are what the file holds (float16, vae_core.io.code_cache) on the first
    call too, so a map looks the same before and after a restart."""
    d = int(model.config.latent_dim)
    key = code_cache.cache_key(model_digest, code_cache.data_digest(data), d) if folder is not None else None
    if key is not None:
        found = code_cache.read(folder, key, len(data), d)
        if found is not None:
            return found
    mean, logvar = encode_dataset(model, data.images, batch_size, progress, should_stop)
    if key is None:
        return mean, logvar
    codes = code_cache.stored(mean, logvar)
    try:
        code_cache.write(folder, key, codes)
    except OSError:
        pass  # a read-only or full disk still works: it encodes again next time
    return codes[0].astype(np.float32), codes[1].astype(np.float32)


class Rate:
    """Images per second and the time left, from progress reports (for a bar's estimate)."""

    def __init__(self, total: int):
        self.total = total
        self.done = 0
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def left_s(self) -> float | None:
        """Seconds left at the rate so far; None before the first batch."""
        if self.done <= 0:
            return None
        return self.elapsed_s() * (self.total - self.done) / self.done
