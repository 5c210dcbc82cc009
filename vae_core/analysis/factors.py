"""Which true factor each latent dimension encodes: the share of a unit's variance each factor explains.

For data generated from known factors (the `shapes` dataset: shape, scale, orientation,
position), every latent unit's posterior mean over the data is regressed on each factor alone,
and R² (the explained share of the unit's variance, 0..1) is reported per (unit, factor):
- a numeric factor (scale, pos_x, pos_y): the squared Pearson correlation (a linear fit);
- a categorical one (shape): the correlation ratio η², the between-class share of the variance;
- an angle (orientation): a fit on cos kθ and sin kθ for k = 1, 2, 4 — the ellipse repeats
  every 180° and the square every 90°, so a unit that follows orientation does so in those
  harmonics, not linearly in θ.
A disentangled model (Higgins et al. 2017) shows one large R² per row; an entangled one spreads
each factor over several units. This is a description, not a disentanglement score (no
classifier, no mutual-information estimate).
"""

from __future__ import annotations

import numpy as np

CATEGORICAL = ("shape",)
ANGLES = ("orientation",)
HARMONICS = (1, 2, 4)


def _design(name: str, values: np.ndarray) -> np.ndarray:
    """The regressors of one factor, [N, k] with a constant column."""
    v = np.asarray(values, dtype=np.float64)
    if name in CATEGORICAL:
        levels = np.unique(v)
        return (v[:, None] == levels[None, :]).astype(np.float64)  # one-hot: the fit is the class means
    if name in ANGLES:
        cols = [f(k * v) for k in HARMONICS for f in (np.cos, np.sin)]
        return np.column_stack([np.ones_like(v), *cols])
    return np.column_stack([np.ones_like(v), v])


def factor_r2(means, factors: dict) -> dict[str, np.ndarray]:
    """{factor: R² per latent unit [D]} for posterior means [N, D] and per-image factor values {name: [N]}."""
    z = np.asarray(means, dtype=np.float64)
    centred = z - z.mean(0)
    total = (centred**2).sum(0)
    out = {}
    for name, values in factors.items():
        x = _design(name, np.asarray(values))
        coef, *_ = np.linalg.lstsq(x, z, rcond=None)
        resid = z - x @ coef
        with np.errstate(invalid="ignore", divide="ignore"):
            r2 = 1.0 - (resid**2).sum(0) / total
        out[name] = np.where(total > 0, np.clip(r2, 0.0, 1.0), 0.0)
    return out
