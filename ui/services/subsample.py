"""The codes a density is estimated from on a big map: all of them up to DENSITY_MAX, else a fixed
random DENSITY_MAX of them — one home for the rule the holes, the fitted samplers and the
attribute directions share."""

from __future__ import annotations

import numpy as np

DENSITY_MAX = 20_000  # codes a density of the codes (holes, fitted samplers) is estimated from, at most


def sample_index(n: int) -> np.ndarray:
    """The fixed random DENSITY_MAX of n items that densities and directions are estimated from."""
    return np.sort(np.random.default_rng(0).choice(n, DENSITY_MAX, replace=False))


def few(mean: np.ndarray, logvar: np.ndarray | None = None):
    """All the codes, or a fixed random DENSITY_MAX of them (a mixture of a million posteriors
    costs a million kernels per evaluation; 20,000 hold the shape of q(z) to well within the
    estimates' own standard errors)."""
    if len(mean) <= DENSITY_MAX:
        return mean, logvar
    idx = sample_index(len(mean))
    return mean[idx], None if logvar is None else logvar[idx]


def from_few(n: int) -> str:
    """The words a figure estimated from few() carries: "" when it used every code."""
    return f" (from a fixed random {DENSITY_MAX:,} of the {n:,} codes)" if n > DENSITY_MAX else ""
