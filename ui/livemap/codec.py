"""Small encodings shared with the browser: index selections and the latent lift.

A lasso over a large map can select tens of thousands of points; as a JSON list that is ~300 kB
each way per rerun, so large selections travel as a base64 bitmask (125 kB for a million points).

What the browser sends back is untrusted: a forged selection (non-numeric or null sizes,
infinities, a bitmask megabytes long, a list of millions) costs work bounded by the map's size
(the bitmask's length is checked before anything is decoded) and reads as "nothing selected".
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass

import numpy as np

from .assets import AssetError

LIST_MAX = 2_000  # selections up to this size travel as a plain list of indices
SELECTION_MAX = 100_000  # points one selection holds (the browser thins a bigger lasso to this)
TRIGGERS = ("click", "box", "lasso", "clear", "restore")


def encode_selection(indices, n: int) -> dict:
    """Indices into [0, n) -> {"list": [...]} or {"bits": base64, "n": n} (bit i set = selected)."""
    idx = np.unique(np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices, dtype=np.int64))
    if len(idx) and (idx[0] < 0 or idx[-1] >= n):
        raise AssetError(f"Selected indices must lie in 0..{n - 1}; found {idx[0]}..{idx[-1]}.")
    if len(idx) <= LIST_MAX:
        return {"list": idx.tolist()}
    mask = np.zeros(n, bool)
    mask[idx] = True
    return {"bits": base64.b64encode(np.packbits(mask, bitorder="little").tobytes()).decode(), "n": int(n)}


def decode_selection(obj, n: int) -> list[int]:
    """The browser's selection ({"list": [...]} or {"bits": base64, "n": n}) for a map of n points
    -> sorted indices. Anything malformed, out of range or above SELECTION_MAX -> [] (nothing selected).

    Bounded work: a list is looked at only up to LIST_MAX entries, a bitmask only when its text is
    exactly as long as n points need (so at most ~n/6 bytes are decoded), whatever the input claims."""
    if not isinstance(obj, dict) or not _count(n):
        return []
    if "list" in obj:
        return _from_list(obj["list"], n)
    if "bits" in obj:
        return _from_bits(obj["bits"], obj.get("n"), n)
    return []


def _count(v) -> bool:
    """A genuine point count: an int (not a bool, a float, a string or None) in 1..2**31."""
    return type(v) is int and 0 < v <= 2**31


def _from_list(items, n: int) -> list[int]:
    if not isinstance(items, list) or len(items) > LIST_MAX:
        return []
    if not all(type(i) is int and 0 <= i < n for i in items):
        return []
    return sorted(set(items))


def _from_bits(text, declared, n: int) -> list[int]:
    size = math.ceil(n / 8)
    if not isinstance(text, str) or declared != n or len(text) != 4 * math.ceil(size / 3):
        return []
    try:
        raw = np.frombuffer(base64.b64decode(text, validate=True), np.uint8)
    except ValueError:  # binascii.Error: not base64
        return []
    if len(raw) != size:
        return []
    picked = np.flatnonzero(np.unpackbits(raw, count=n, bitorder="little"))
    return picked.tolist() if len(picked) <= SELECTION_MAX else []


def trigger(value) -> str | None:
    """What made a selection, as the browser says it: one of TRIGGERS, else None."""
    return value if isinstance(value, str) and value in TRIGGERS else None


def finite_code(value, d: int) -> np.ndarray | None:
    """A code the browser sends (slider positions): d finite numbers, else None."""
    if not isinstance(value, list) or len(value) != d:
        return None
    if not all(type(v) in (int, float) and math.isfinite(v) and abs(v) < 1e6 for v in value):
        return None
    return np.asarray(value, np.float32)


def cell(value, rows: int, cols: int) -> tuple[int, int] | None:
    """A grid cell the browser sends: [row, column] as ints inside the grid, else None."""
    if not isinstance(value, list) or len(value) != 2 or not all(type(v) is int for v in value):
        return None
    r, c = value
    return (r, c) if 0 <= r < rows and 0 <= c < cols else None


@dataclass(frozen=True)
class Lift:
    """The linear map from map coordinates back to latent codes: z = center + [x, y] @ components.

    Where center and components come from is the projection's business (Projection.lift in
    vae_core.analysis.projection): this class only checks and carries them.
    """

    center: np.ndarray  # [D]
    components: np.ndarray  # [2, D]

    def __post_init__(self):
        c, w = np.asarray(self.center, np.float64), np.asarray(self.components, np.float64)
        if c.ndim != 1 or w.shape != (2, len(c)) or not (np.isfinite(c).all() and np.isfinite(w).all()):
            raise AssetError(
                f"A lift needs center [D] and components [2, D], finite; got {list(c.shape)}, {list(w.shape)}."
            )

    @classmethod
    def from_projection(cls, proj) -> Lift | None:
        """From a vae_core Projection (its `lift()`): None for t-SNE and UMAP, which have no inverse."""
        inverse = proj.lift()
        return None if inverse is None else cls(*inverse)

    @property
    def latent_dim(self) -> int:
        return len(self.center)

    def __call__(self, xy) -> np.ndarray:
        """Map positions [M, 2] -> codes [M, D] (float32), as the browser computes them."""
        xy = np.asarray(xy, np.float32).reshape(-1, 2)
        return (np.asarray(self.center, np.float32) + xy @ np.asarray(self.components, np.float32)).astype(np.float32)

    def arg(self) -> dict:
        return {
            "center": np.asarray(self.center, np.float64).tolist(),
            "components": np.asarray(self.components, np.float64).tolist(),
        }
