"""Images kept compactly (bytes or packed bits), handed out as float32 batches when indexed.

A data set that does not fit in memory as floats (dSprites-style `shapes`: 737,280 x 64x64 is
12 GB as float32; 70,000 colour 64x64 photos are 3.4 GB) is held as uint8 (a folder's images,
0..255) or as bits (binary images, 8 pixels a byte), possibly memory-mapped from the on-disk
cache. The store quacks like the float tensor a small data set keeps in `Dataset.images` for
what the engine does with it — `len`, `.shape`, `.device`, `.to(device)`, and indexing by an
int, a slice or an index tensor, which returns float32 [n, C, H, W] in [0, 1] — so the Trainer
slices batches from it and the estimators encode it in chunks without ever holding it all as
floats. `take(idx)` is a smaller store (a subset stays compact).
"""

from __future__ import annotations

import numpy as np
import torch

from .views import Uint8View, bit_view

MAX_FLOAT_BYTES = 2**31  # `.float()` refuses to expand more than this (2 GB) at once


class ImageStore:
    """Compact images: `rows` (a numpy memmap or array, or a torch tensor once moved), an optional
    `index` of the rows this store holds (a subset of a memory-mapped file reads nothing until
    used), and the images' logical shape (C, H, W)."""

    dtype = torch.float32

    def __init__(self, rows, image_shape: tuple[int, int, int], index: np.ndarray | None = None):
        self.rows = rows  # [M, ...] compact per-image data
        self.index = None if index is None else np.asarray(index, dtype=np.int64)  # rows held, in order
        self.image_shape = tuple(int(s) for s in image_shape)

    def __len__(self) -> int:
        return len(self.rows) if self.index is None else len(self.index)

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self), *self.image_shape))

    @property
    def device(self) -> torch.device:
        return self.rows.device if isinstance(self.rows, torch.Tensor) else torch.device("cpu")

    @property
    def nbytes(self) -> int:
        per_row = int(np.prod(self.rows.shape[1:]))
        return len(self) * per_row

    def dim(self) -> int:
        return 4

    def to(self, device=None, *args, **kwargs) -> ImageStore:
        """The rows held, as one tensor on `device` (read from the file once: batches are slices of it)."""
        rows = self._rows(slice(None))
        rows = rows if isinstance(rows, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(rows))
        return type(self)(rows.to(device), self.image_shape)

    def take(self, index) -> ImageStore:
        """The images at `index` (an int array or tensor), still compact and still unread."""
        idx = index.cpu().numpy() if isinstance(index, torch.Tensor) else np.asarray(index)
        idx = np.arange(len(self))[idx]  # bounds-checked, negatives resolved
        if isinstance(self.rows, torch.Tensor):
            return type(self)(self.rows[torch.as_tensor(self._positions(idx), device=self.rows.device)],
                              self.image_shape)  # fmt: skip
        return type(self)(self.rows, self.image_shape, self._positions(idx))

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, (int, np.integer)):
            i = int(index) + (len(self) if index < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(f"index {int(index)} is out of range for {len(self)} images")
            return self[i : i + 1][0]
        return self.expand(self._rows(index))

    def float(self) -> torch.Tensor:
        """All of it as one float32 tensor (bounded: MAX_FLOAT_BYTES)."""
        need = 4 * len(self) * int(np.prod(self.image_shape))
        if need > MAX_FLOAT_BYTES:
            raise MemoryError(
                f"{len(self):,} images of {self.image_shape} would take {need / 2**30:.1f} GB as floats "
                f"(limit {MAX_FLOAT_BYTES / 2**30:.0f} GB); index batches of it instead."
            )
        return self[:]

    def uint8(self, chunk: int = 65_536) -> np.ndarray:
        """All of it as uint8 [N, C, H, W] (x 255, rounded), expanded chunk by chunk: a quarter of
        the floats' memory; ByteImages hands out its bytes as they are."""
        out = np.empty((len(self), *self.image_shape), np.uint8)
        for a in range(0, len(self), chunk):
            out[a : a + chunk] = self[a : a + chunk].mul_(255).round_().to(torch.uint8).numpy()
        return out

    def uint8_view(self) -> Uint8View:
        """The images as uint8 [N, C, H, W], made only for the rows indexed: what a map's hover
        route serves from a data set whose bytes would not fit (shapes: 2.7 GB as bytes, 377 MB
        as the bits it is stored in)."""
        return Uint8View(len(self), self.image_shape, self._uint8_rows)

    def _uint8_rows(self, idx: np.ndarray) -> np.ndarray:
        return self.expand(self._rows(idx)).mul_(255).round_().to(torch.uint8).numpy()

    def _positions(self, idx):
        """Positions in `rows` of this store's images `idx` (an array, or a slice when unindexed)."""
        return idx if self.index is None else self.index[idx]

    def _rows(self, index):
        """The compact rows of this store's images `index` (int array/tensor/list, or a slice)."""
        if isinstance(self.rows, torch.Tensor):
            if not isinstance(index, slice):
                index = torch.as_tensor(index, device=self.rows.device)
            return self.rows[index]
        if isinstance(index, slice):
            return self.rows[index] if self.index is None else self.rows[self.index[index]]
        idx = index.cpu().numpy() if isinstance(index, torch.Tensor) else np.asarray(index)
        return self.rows[self._positions(idx)]

    def expand(self, rows) -> torch.Tensor:  # pragma: no cover - each kind says how
        raise NotImplementedError


class ByteImages(ImageStore):
    """uint8 [N, C, H, W], 0..255 -> value / 255."""

    def uint8(self) -> np.ndarray:
        """The bytes [N, C, H, W] themselves (no copy when the store holds every row of a file)."""
        rows = self._rows(slice(None))
        return rows.cpu().numpy() if isinstance(rows, torch.Tensor) else rows

    def uint8_view(self) -> np.ndarray:
        """The bytes themselves: already uint8, indexable, memory-mapped for a big folder."""
        return self.uint8()

    def expand(self, rows) -> torch.Tensor:
        t = rows if isinstance(rows, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(rows))
        return t.to(torch.float32).div_(255.0)


class BitImages(ImageStore):
    """Binary images packed 8 pixels a byte along the width (np.packbits, big-endian bit order):
    uint8 [N, C, H, ceil(W / 8)] -> 0.0 / 1.0."""

    def uint8_view(self) -> Uint8View:
        """Numpy rows (a memory-mapped file) unpack with numpy, no float expansion for a hover image."""
        if isinstance(self.rows, torch.Tensor):
            return super().uint8_view()
        return bit_view(self.rows, self.image_shape, self.index)

    def expand(self, rows) -> torch.Tensor:
        t = rows if isinstance(rows, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(rows))
        shifts = torch.arange(7, -1, -1, device=t.device, dtype=torch.uint8)
        bits = (t.unsqueeze(-1) >> shifts) & 1  # [n, C, H, W/8, 8]
        w = self.image_shape[-1]
        return bits.flatten(-2)[..., :w].to(torch.float32)
