"""Small encodings shared with the browser: index selections and the latent lift.

A lasso over a 60k map can select tens of thousands of points; as a JSON list that is ~300 kB
each way per rerun, so large selections travel as a base64 bitmask (7.5 kB for 60k points).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from .assets import AssetError

LIST_MAX = 2_000  # selections up to this size travel as a plain list of indices


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


def decode_selection(obj, n: int | None = None) -> list[int]:
    """The browser's selection ({"list": ...} or {"bits": ..., "n": ...}) -> sorted indices; bad input -> []."""
    if not isinstance(obj, dict):
        return []
    if isinstance(obj.get("list"), list):
        out = sorted({int(i) for i in obj["list"] if isinstance(i, int | float) and int(i) >= 0})
    elif isinstance(obj.get("bits"), str):
        try:
            raw = np.frombuffer(base64.b64decode(obj["bits"], validate=True), np.uint8)
        except ValueError:
            return []
        out = np.flatnonzero(np.unpackbits(raw, bitorder="little")[: int(obj.get("n", 0))]).tolist()
    else:
        return []
    return [i for i in out if n is None or i < n]


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
