"""Overlays drawn over the live map, passed as small arguments (a few kB at most).

All coordinates are map coordinates (the same space as the points). Sizes are capped so that
one rerun never carries more than ~200 kB: the big things travel as assets, never here.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass

import numpy as np

from .assets import AssetError

MAX_VERTICES = 5_000  # points of one polyline / markers / points overlay
MAX_ELLIPSES = 2_000
MAX_RASTER_CELLS = 256 * 256
SYMBOLS = ("circle", "star", "x", "diamond", "square", "cross")


def _xy(a, what: str, cap: int) -> list:
    arr = np.asarray(a, dtype=np.float64).reshape(-1, 2) if np.size(a) else np.zeros((0, 2))
    if len(arr) > cap:
        raise AssetError(f"{what}: at most {cap:,} points per overlay, not {len(arr):,}.")
    if not np.isfinite(arr).all():
        raise AssetError(f"{what}: positions must be finite numbers.")
    return np.round(arr, 5).tolist()  # 5 decimals: far below a pixel, and a third of the JSON


@dataclass
class Polyline:
    """A path (e.g. an interpolation), with start and end markers."""

    xy: np.ndarray  # [M, 2] vertices in order
    name: str = "path"  # legend entry
    color: str = "#111111"  # CSS colour
    width: float = 2.0  # line width in px
    markers: bool = True  # a dot at every vertex
    start_label: str | None = "start"  # text beside the first vertex (None: no label)
    end_label: str | None = "end"  # text beside the last vertex

    def arg(self) -> dict:
        return {
            "type": "polyline",
            "xy": _xy(self.xy, self.name, MAX_VERTICES),
            "name": self.name,
            "color": self.color,
            "width": float(self.width),
            "markers": bool(self.markers),
            "start": self.start_label,
            "end": self.end_label,
        }


@dataclass
class Markers:
    """Labelled markers, e.g. the user's digit as a star."""

    xy: np.ndarray  # [M, 2]
    labels: list[str] | None = None  # text beside each marker (None: none)
    name: str = "markers"  # legend entry
    symbol: str = "star"  # one of SYMBOLS
    color: str = "#000000"  # CSS colour
    size: float = 16.0  # marker size in px

    def arg(self) -> dict:
        if self.symbol not in SYMBOLS:
            raise AssetError(f"Unknown marker symbol {self.symbol!r}: use one of {', '.join(SYMBOLS)}.")
        xy = _xy(self.xy, self.name, MAX_VERTICES)
        if self.labels is not None and len(self.labels) != len(xy):
            raise AssetError(f"{self.name}: {len(self.labels)} labels for {len(xy)} markers.")
        return {
            "type": "markers",
            "xy": xy,
            "labels": [str(s) for s in self.labels] if self.labels is not None else None,
            "name": self.name,
            "symbol": self.symbol,
            "color": self.color,
            "size": float(self.size),
        }


@dataclass
class Points(Markers):
    """Many small unlabelled markers, e.g. prior samples."""

    name: str = "points"
    symbol: str = "x"
    color: str = "rgba(0,0,0,0.6)"
    size: float = 5.0


@dataclass
class Ellipses:
    """Gaussian contours, e.g. posteriors at 1σ: centres [M, 2] and covariances [M, 2, 2] on the map."""

    centers: np.ndarray  # [M, 2]
    covs: np.ndarray  # [M, 2, 2] symmetric positive semi-definite
    n_sigma: float = 1.0  # radius in standard deviations
    name: str = "posterior 1σ"
    color: str = "rgba(0,0,0,0.45)"
    width: float = 1.0

    def arg(self) -> dict:
        c = _xy(self.centers, self.name, MAX_ELLIPSES)
        cov = np.asarray(self.covs, dtype=np.float64)
        if cov.shape != (len(c), 2, 2) or not np.isfinite(cov).all():
            raise AssetError(f"{self.name}: covariances must be finite, shape [{len(c)}, 2, 2].")
        if len(c) and (np.abs(cov[:, 0, 1] - cov[:, 1, 0]) > 1e-6 * (1 + np.abs(cov).max())).any():
            raise AssetError(f"{self.name}: covariances must be symmetric.")
        flat = np.stack([cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 1]], 1) if len(c) else np.zeros((0, 3))
        return {
            "type": "ellipses",
            "xy": c,
            "cov": np.round(flat, 7).tolist(),
            "k": float(self.n_sigma),
            "name": self.name,
            "color": self.color,
            "width": float(self.width),
        }


@dataclass
class Circle:
    """A circle in map units, e.g. the prior's 2σ (draws as an ellipse when the axes are not equal)."""

    radius: float = 2.0
    center: tuple[float, float] = (0.0, 0.0)
    name: str = "prior, 2σ"
    color: str = "#000000"
    dash: bool = True
    width: float = 1.0

    def arg(self) -> dict:
        if not (math.isfinite(self.radius) and self.radius > 0):
            raise AssetError(f"{self.name}: the radius must be a positive number, not {self.radius}.")
        return {
            "type": "circle",
            "center": _xy([self.center], self.name, 1)[0],
            "r": float(self.radius),
            "name": self.name,
            "color": self.color,
            "dash": bool(self.dash),
            "width": float(self.width),
        }


@dataclass
class Raster:
    """A shaded grid over an extent: values in [0, 1] become the colour's opacity (e.g. prior holes)."""

    values: np.ndarray  # [H, W], row 0 at the top (y = y1)
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 in map units
    name: str = "holes"
    color: str = "#d62728"  # CSS hex colour of the shade
    max_alpha: float = 0.5  # opacity of a value of 1

    def arg(self) -> dict:
        v = np.asarray(self.values, dtype=np.float64)
        if v.ndim != 2 or v.size == 0 or v.size > MAX_RASTER_CELLS:
            raise AssetError(f"{self.name}: a raster is [H, W] with at most {MAX_RASTER_CELLS:,} cells.")
        x0, x1, y0, y1 = (float(e) for e in self.extent)
        if not all(math.isfinite(e) for e in (x0, x1, y0, y1)) or x1 <= x0 or y1 <= y0:
            raise AssetError(f"{self.name}: the extent must be finite (x0, x1, y0, y1) with x0 < x1 and y0 < y1.")
        u8 = np.rint(np.clip(np.nan_to_num(v), 0, 1) * 255).astype(np.uint8)
        return {
            "type": "raster",
            "h": int(v.shape[0]),
            "w": int(v.shape[1]),
            "data": base64.b64encode(u8.tobytes()).decode(),
            "extent": [x0, x1, y0, y1],
            "name": self.name,
            "color": self.color,
            "alpha": float(np.clip(self.max_alpha, 0, 1)),
        }


Overlay = Polyline | Markers | Points | Ellipses | Circle | Raster
