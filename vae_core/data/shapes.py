"""`shapes`: binary 64x64 sprites generated to the dSprites specification, with their five true factors.

dSprites (Matthey, Higgins, Hassabis & Lerchner 2017, github.com/deepmind/dsprites-dataset) is
every combination of five factors, each image once, in a fixed order (the last factor fastest):

    shape        square, ellipse, heart                      3
    scale        6 values linearly spaced in [0.5, 1]        6
    orientation  40 values in [0, 2 pi] (both ends: 0 and 2 pi draw the same image, as in dSprites)
    pos_x        32 values in [0, 1]                         32
    pos_y        32 values in [0, 1]                         32    -> 737,280 images

This module generates them with its own renderer; nothing is downloaded and it is not the
original file (whose sprites were drawn with the LÖVE engine): the factor grid and the order
are dSprites', the pixel geometry is ours, documented here. A sprite is drawn once per (shape,
scale, orientation) into a 32x32 patch, its centre on the patch's middle corner, a pixel set
where its centre lies inside the shape; the patch is placed at (pos_x, pos_y) * 31 pixels, so
the sprite's centre is at x = 16 + 31 pos_x, y = 16 + 31 pos_y (y grows downwards, image rows),
one pixel per position step, and no sprite ever leaves the image. At scale 1: a square of side
20 px, an ellipse with semi-axes 12 and 6 px (long axis along x at orientation 0), a heart
(x^2 + y^2 - 1)^3 <= x^2 y^3 of 20 px height, point down; the orientation turns it
counter-clockwise as seen on screen.

Generated once, a block of 1,024 positions at a time with a progress bar, into the data cache
as bits (vae_core.data.store.BitImages: 512 bytes an image, 377 MB in all), and memory-mapped
from there: loading a split reads nothing until batches are taken. What is read back is checked
(dtype, shape, and three blocks drawn again and compared); a bad cache is generated anew.
"""

from __future__ import annotations

import math

import numpy as np

from .cache import data_cache_dir, open_array, write_array
from .catalog import IMAGE_SHAPES, SHAPE_CLASSES
from .progress import progress_bar
from .views import Uint8View, bit_view, pack_bits

FACTORS = ("shape", "scale", "orientation", "pos_x", "pos_y")  # dSprites' order, last fastest
SHAPE_NAMES = SHAPE_CLASSES  # dSprites' order
SIDE = IMAGE_SHAPES["shapes"][1]  # image side, pixels (64)
PATCH = 32  # a sprite's patch; placed at 0..31 pixels in x and y
SQUARE_SIDE, ELLIPSE_AXES, HEART_HEIGHT = 20.0, (12.0, 6.0), 20.0  # pixels at scale 1
VERSION = 1  # of the geometry above: the cache file is named by it


class FactorGrid:
    """The values each factor takes (dSprites' metadata['latents_possible_values'])."""

    shape: np.ndarray = np.arange(3)  # indices into SHAPE_NAMES (dSprites stores 1, 2, 3)
    scale: np.ndarray = np.linspace(0.5, 1.0, 6)
    orientation: np.ndarray = np.linspace(0.0, 2 * math.pi, 40)  # radians
    pos_x: np.ndarray = np.linspace(0.0, 1.0, 32)
    pos_y: np.ndarray = np.linspace(0.0, 1.0, 32)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(len(getattr(self, f)) for f in FACTORS)

    def __len__(self) -> int:
        return math.prod(self.sizes)


GRID = FactorGrid()
N_IMAGES = len(GRID)  # 737,280
BLOCK = GRID.sizes[3] * GRID.sizes[4]  # the 1,024 positions of one (shape, scale, orientation)


def factor_indices(index) -> np.ndarray:
    """Image indices [N] -> the index of each factor's value [N, 5] (mixed radix, dSprites' order)."""
    index = np.asarray(index, dtype=np.int64)
    out = np.empty((*index.shape, len(FACTORS)), dtype=np.int64)
    for j in range(len(FACTORS) - 1, -1, -1):
        index, out[..., j] = np.divmod(index, GRID.sizes[j])
    return out


def image_index(factors) -> np.ndarray:
    """The inverse of factor_indices: [N, 5] value indices -> image indices [N]."""
    bases = np.cumprod((1, *GRID.sizes[:0:-1]))[::-1]
    return np.asarray(factors, dtype=np.int64) @ bases


def shape_labels(index) -> np.ndarray:
    """The label of images `index`: their shape, an index into SHAPE_NAMES, int64 [N]."""
    return factor_indices(index)[..., 0]


def factor_values(index) -> dict[str, np.ndarray]:
    """Each factor's value for images `index`: {name: float32 [N]} (shape as 0, 1, 2)."""
    idx = factor_indices(index)
    return {f: getattr(GRID, f)[idx[..., j]].astype(np.float32) for j, f in enumerate(FACTORS)}


def sprite(shape: int, scale: float, orientation: float) -> np.ndarray:
    """The bool [PATCH, PATCH] patch of one sprite, centred on the patch's middle corner (16, 16)."""
    c = np.arange(PATCH) + 0.5 - PATCH / 2  # pixel centres relative to the sprite's centre
    dx, dy = c[None, :], -c[:, None]  # y up, so a positive angle turns counter-clockwise on screen
    cos, sin = math.cos(orientation), math.sin(orientation)
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy  # the pixel in the sprite's own frame
    if shape == 0:
        half = SQUARE_SIDE * scale / 2
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    if shape == 1:
        a, b = ELLIPSE_AXES[0] * scale, ELLIPSE_AXES[1] * scale
        return (u / a) ** 2 + (v / b) ** 2 <= 1
    # the heart curve spans y in [-1, 1.25] (2.25 units): HEART_HEIGHT px, centred on its box
    k = HEART_HEIGHT * scale / 2.25
    x, y = u / k, v / k + 0.125
    return (x * x + y * y - 1) ** 3 - x * x * y**3 <= 0


def render_block(block: int) -> np.ndarray:
    """The 1,024 images of block `block` (= (shape * 6 + scale) * 40 + orientation): bool [32, 32, 64, 64],
    indexed [pos_x, pos_y]."""
    s, sc, o = factor_indices(block * BLOCK)[:3]
    patch = sprite(int(s), float(GRID.scale[sc]), float(GRID.orientation[o]))
    canvas = np.zeros((SIDE + PATCH - 1, SIDE + PATCH - 1), dtype=bool)
    canvas[PATCH - 1 : 2 * PATCH - 1, PATCH - 1 : 2 * PATCH - 1] = patch
    # window (r, c) of the canvas is the image with the patch at row 31 - r, column 31 - c
    windows = np.lib.stride_tricks.sliding_window_view(canvas, (SIDE, SIDE))[::-1, ::-1]  # [y, x, 64, 64]
    return windows.transpose(1, 0, 2, 3)  # [x, y, 64, 64]


def packed_block(block: int) -> np.ndarray:
    """Block `block` as BitImages rows: uint8 [1024, 1, 64, 8]."""
    return pack_bits(render_block(block)).reshape(BLOCK, 1, SIDE, SIDE // 8)


def digest(split: str = "train") -> str:
    """The content digest of a split, from what determines it (the geometry's VERSION, the side,
    the split): hashing 377 MB of bits to name them would take seconds, drawing them is exact."""
    import hashlib

    return hashlib.sha256(f"shapes/v{VERSION}/{SIDE}px/{split}".encode()).hexdigest()


def cache_path():
    return data_cache_dir("shapes") / f"shapes-v{VERSION}-{SIDE}px.npy"


ROW_SHAPE = (1, SIDE, SIDE // 8)


def cached_bits() -> np.ndarray | None:
    """All 737,280 images as packed bits [N, 1, 64, 8], memory-mapped from the cache; None unless
    they are there and pass the spot check."""
    arr = open_array(cache_path(), np.uint8, (N_IMAGES, *ROW_SHAPE))
    return arr if arr is not None and _spot_check(arr) else None


def load_bits(progress=None) -> np.ndarray:
    """All 737,280 images as packed bits [N, 1, 64, 8], memory-mapped from the cache (made if missing or bad)."""
    arr = cached_bits()
    if arr is not None:
        return arr
    path = cache_path()
    n_blocks = N_IMAGES // BLOCK

    def fill(out):
        for b in range(n_blocks):
            out[b * BLOCK : (b + 1) * BLOCK] = packed_block(b)
            if progress is not None:
                progress(b + 1, n_blocks)

    write_array(path, fill, np.uint8, (N_IMAGES, *ROW_SHAPE))
    arr = open_array(path, np.uint8, (N_IMAGES, *ROW_SHAPE))
    if arr is None:
        raise OSError(f"the shapes cache {path} could not be read back after writing it.")
    return arr


def _spot_check(arr: np.ndarray) -> bool:
    """Three blocks (first, last, one in the middle) drawn again must equal the cached ones."""
    n_blocks = N_IMAGES // BLOCK
    blocks = (0, n_blocks // 2 + 7, n_blocks - 1)
    return all(np.array_equal(arr[b * BLOCK : (b + 1) * BLOCK], packed_block(b)) for b in blocks)


def uint8_view(bits: np.ndarray, index) -> Uint8View:
    """Images `index` (rows of `bits`) as a lazy uint8 [N, 1, 64, 64] view of 0 / 255, made with
    numpy alone: the app shows the shapes map before torch is imported (ui/services/data.py);
    equal to the Dataset's images.uint8_view() for the same rows (tests/engine/test_shapes.py)."""
    return bit_view(bits, (1, SIDE, SIDE), index)


def load_shapes(split: str = "train", progress=None):
    """The train or val split (90 / 10 %, stratified by shape: 663,552 / 73,728 images), memory-mapped.

    Labels are the shape (classes: square, ellipse, heart); `factors` holds every factor's value
    per image (shape as 0, 1, 2; scale; orientation in radians; pos_x, pos_y in [0, 1])."""
    import torch  # here, not at the top: the rest of this module serves the app's first page without torch

    from .dataset import Dataset, split_of
    from .store import BitImages

    if split == "test":
        raise ValueError("shapes has no separate test split; use split 'val' (held out from training).")
    with progress_bar("Generating shapes", progress) as bar:
        bits = load_bits(bar)
    everything = np.arange(N_IMAGES)
    values = factor_values(everything)
    data = Dataset(
        "shapes",
        split,
        BitImages(bits, (1, SIDE, SIDE)),
        torch.from_numpy(shape_labels(everything)),
        SHAPE_NAMES,
        {k: torch.from_numpy(v) for k, v in values.items()},
    )
    return split_of(data, split)
