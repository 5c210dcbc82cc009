"""Compact images as numpy, without torch: the bit packing BitImages stores, and lazy uint8 views.

The app's first page shows the shapes map (663,552 sprites kept as bits) before torch is imported
(ui/services/data.py): everything it needs of the images is here. vae_core.data.store builds its
torch stores on the same two pieces.
"""

from __future__ import annotations

import numpy as np


class Uint8View:
    """uint8 images [N, *shape] made on demand: indexed like an array (an int, a slice, an int or
    bool array), it builds only the rows asked for, so a map of 663,552 sprites serves hover
    images and montages without expanding all of them (ui/livemap/route.py gathers by index)."""

    dtype = np.dtype(np.uint8)
    lazy = True  # ui.livemap.publish passes a lazy view through without reading it

    def __init__(self, n: int, shape: tuple, rows):
        self.n, self.image_shape, self._make = int(n), tuple(int(s) for s in shape), rows

    @property
    def shape(self) -> tuple:
        return (self.n, *self.image_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.image_shape)

    def __len__(self) -> int:
        return self.n

    def squeeze_channel(self) -> Uint8View:
        """[N, 1, H, W] -> [N, H, W] (how a map holds grey images)."""
        if len(self.image_shape) != 3 or self.image_shape[0] != 1:
            raise ValueError(f"only a one-channel view drops its channel, not {self.image_shape}")
        return Uint8View(self.n, self.image_shape[1:], lambda idx: self._make(idx)[:, 0])

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, tuple):  # rows first, then numpy indexes within them: view[i, 0]
            first, rest = (key[0] if key else slice(None)), key[1:]
            rows = self[first]
            return rows[rest] if isinstance(first, (int, np.integer)) else rows[(slice(None), *rest)]
        if isinstance(key, (int, np.integer)):
            return self[np.array([int(key)])][0]
        idx = np.arange(*key.indices(self.n)) if isinstance(key, slice) else np.asarray(key)
        if idx.dtype == bool:
            if idx.shape != (self.n,):
                raise IndexError(f"a boolean index must have {self.n} entries, not {idx.shape}")
            idx = np.flatnonzero(idx)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise IndexError("index a view by an int, a slice, or a 1-D int or bool array")
        idx = idx.astype(np.int64)
        idx = np.where(idx < 0, idx + self.n, idx)  # negatives count from the end, as numpy's do
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise IndexError(f"indices must lie in -{self.n}..{self.n - 1}")
        out = np.empty((len(idx), *self.image_shape), np.uint8)
        for a in range(0, len(idx), 65_536):  # bounded temporaries whatever is asked
            out[a : a + 65_536] = self._make(idx[a : a + 65_536])
        return out

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a Uint8View is never read whole; index the rows you need")


def pack_bits(binary: np.ndarray) -> np.ndarray:
    """bool or 0/1 [..., W] -> uint8 [..., ceil(W / 8)] as BitImages reads it."""
    return np.packbits(np.asarray(binary, dtype=bool), axis=-1)


def unpack_bits(packed: np.ndarray, width: int) -> np.ndarray:
    """The inverse of pack_bits: uint8 [..., ceil(W / 8)] -> uint8 0/1 [..., width]."""
    return np.unpackbits(np.asarray(packed, dtype=np.uint8), axis=-1, count=width)


def bit_view(rows: np.ndarray, image_shape: tuple, index=None) -> Uint8View:
    """Binary images packed by pack_bits (rows [M, C, H, ceil(W / 8)], a memmap or an array), the
    rows `index` of them (None: all), as a lazy uint8 view of 0 / 255: BitImages' hover bytes, and
    the shapes map's without torch (vae_core.data.shapes.uint8_view)."""
    index = np.arange(len(rows)) if index is None else np.asarray(index, dtype=np.int64)
    width = image_shape[-1]
    return Uint8View(len(index), image_shape, lambda idx: unpack_bits(rows[index[idx]], width) * np.uint8(255))
