"""The true posterior of one image at D = 2, and Gaussian expectations by quadrature.

    p(z|x) = p(x|z) p(z) / p(x)       (Bayes; p(x) from vae_core.analysis.quadrature)

- `posterior_grid`: p(z|x) on a regular axis-aligned grid a page can draw as a heat map, with
  its 1σ and 2σ contours as highest-density-region thresholds: the density t whose region
  {p(z|x) ≥ t} holds 1 − e^(−k²/2) of the mass (39.3 %, 86.5 %), the mass inside a 2-D
  Gaussian's k-σ ellipse, so the true posterior's contours compare directly with q's ellipses.
- `gaussian_quadrature`: E_q[log p(x|z)] and E_q[log p(z)] for a diagonal Gaussian q by the
  trapezoid rule in q's own coordinates z = μ + σ ⊙ u. With the closed-form KL(q ‖ p(z)) that is
  the ELBO (Kingma & Welling 2013, eq. 3).
- `kl_to_posterior`: KL(q ‖ p(z|x)) summed on the drawn grid, which the identity
  log p(x) = ELBO + KL(q ‖ p(z|x)) says equals the gap (tests/engine/test_elbo_gaps.py checks it
  against the quadrature's p(x) and a Monte-Carlo ELBO).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..model.losses import gaussian_kl, log_normal, log_standard_normal
from .likelihood import log_joint_blocked, log_likelihood
from .quadrature import Quadrature

HDR_SIGMAS = (1.0, 2.0)  # contours drawn, in "σ" of a 2-D Gaussian
SHOWN_NATS = 12.0  # the shown box holds every grid point within this of the peak (≈ 4.9σ)
Q_SHOWN_SIGMAS = 5.0  # ... and q out to this many σ (all but e^-12.5 of its mass)
MAX_SHOWN_POINTS = 160  # per axis of the shown grid: 25,600 decoder calls at most
Q_POINTS, Q_RADIUS = 25, 6.5  # q-aligned quadrature: points per axis (odd), half-width in σ
ELLIPSE_POINTS = 73  # vertices of a drawn ellipse (closed: first = last)


@dataclass
class PosteriorGrid:
    """p(z|x) on a grid for drawing: rows are z2, columns z1 (plotly's heatmap/contour layout)."""

    z1: np.ndarray  # [n] the columns' first latent coordinate
    z2: np.ndarray  # [n] the rows' second latent coordinate
    log_density: np.ndarray  # [n, n] log p(z|x) (normalised by the exact p(x))
    levels: np.ndarray  # [2] densities bounding the 1σ and 2σ highest-density regions
    level_masses: np.ndarray  # [2] the mass inside each: 1 - exp(-k²/2)
    mean: np.ndarray  # [2] E[z|x] (from the quadrature grid)
    cov: np.ndarray  # [2, 2] Cov[z|x]
    log_px: float  # log p(x), nats
    check: float  # quadrature's every-other-point difference, nats (its error is far smaller)

    @property
    def density(self) -> np.ndarray:
        return np.exp(self.log_density)

    @property
    def cell(self) -> float:
        return float((self.z1[1] - self.z1[0]) * (self.z2[1] - self.z2[0]))


def hdr_levels(density: np.ndarray, cell: float, masses) -> np.ndarray:
    """Thresholds t_k with mass{p ≥ t_k} = masses[k] (Hyndman 1996, "Computing and graphing
    highest density regions"), from densities on a regular grid with cells of area `cell`."""
    d = np.sort(density.ravel())[::-1]
    cum = np.cumsum(d) * cell
    cum /= cum[-1]  # relative to the mass shown: the box holds all but ~e^-12 of it
    return np.array([d[min(np.searchsorted(cum, m), len(d) - 1)] for m in masses])


def shown_box(quad: Quadrature, gaussians) -> np.ndarray:
    """[[lo1, hi1], [lo2, hi2]]: the posterior's mass (points within SHOWN_NATS of the peak on the
    quadrature grid) and each (mean, logvar) Gaussian out to Q_SHOWN_SIGMAS, padded by 5 %."""
    z = quad.grid.points()[:, 0]
    lj = quad.log_joint[:, 0]
    near = z[lj > lj.max() - SHOWN_NATS]
    lo, hi = near.amin(0), near.amax(0)
    for mean, logvar in gaussians:
        sd = (0.5 * logvar.double()).exp()
        lo = torch.minimum(lo, mean.double() - Q_SHOWN_SIGMAS * sd)
        hi = torch.maximum(hi, mean.double() + Q_SHOWN_SIGMAS * sd)
    pad = 0.05 * (hi - lo)
    return torch.stack([lo - pad, hi + pad], 1).numpy()


def grid_size(box: np.ndarray, scales, minimum: int) -> int:
    """Points per axis so that the grid's spacing is at most half of each scale in `scales`
    (σ of q, the posterior's conditional σ): a Gaussian that narrow is then summed to ~1e-8
    by the trapezoid rule. At least `minimum`, at most MAX_SHOWN_POINTS."""
    width = float(np.max(box[:, 1] - box[:, 0]))
    finest = float(min(np.min(np.asarray(s, dtype=np.float64)) for s in scales))
    need = int(np.ceil(width / (0.5 * max(finest, 1e-12)))) + 1
    return int(min(MAX_SHOWN_POINTS, max(minimum, need)))


def log_joint_on_box(model, x: torch.Tensor, box: np.ndarray, n: int):
    """Axes z1, z2 [n] and log p(x, z) [n, n] (rows z2) on a regular grid over `box`."""
    z1 = torch.linspace(float(box[0, 0]), float(box[0, 1]), n, dtype=torch.float64)
    z2 = torch.linspace(float(box[1, 0]), float(box[1, 1]), n, dtype=torch.float64)
    g2, g1 = torch.meshgrid(z2, z1, indexing="ij")
    z = torch.stack([g1.flatten(), g2.flatten()], -1)[:, None, :]
    return z1, z2, log_joint_blocked(model, z, x)[:, 0].reshape(n, n)


def posterior_grid(quad: Quadrature, z1, z2, log_joint: torch.Tensor) -> PosteriorGrid:
    """The drawable posterior from a regular grid's log p(x, z) and the quadrature's p(x)."""
    log_px = float(quad.log_px[0])
    log_density = (log_joint - log_px).numpy()
    masses = np.array([1 - math.exp(-(k**2) / 2) for k in HDR_SIGMAS])
    cell = float((z1[1] - z1[0]) * (z2[1] - z2[0]))
    return PosteriorGrid(
        z1=z1.numpy(),
        z2=z2.numpy(),
        log_density=log_density,
        levels=hdr_levels(np.exp(log_density), cell, masses),
        level_masses=masses,
        mean=quad.mean[0].numpy(),
        cov=quad.cov[0].numpy(),
        log_px=log_px,
        check=float(quad.check[0]),
    )


@dataclass
class GaussianQuadrature:
    """Expectations under q = N(μ, diag σ²) at D = 2, exact up to the quadrature (nats)."""

    expected_log_lik: float  # E_q[log p(x|z)]
    kl_prior: float  # KL(q ‖ p(z)), closed form (vae_core.model.losses.gaussian_kl)
    check: float  # |E_q[log p(x|z)] on every point − on every other point|

    @property
    def elbo(self) -> float:
        return self.expected_log_lik - self.kl_prior


def gaussian_nodes() -> tuple[torch.Tensor, torch.Tensor]:
    """Trapezoid nodes u [K, 2] on [-Q_RADIUS, Q_RADIUS]² (row-major, Q_POINTS per axis) and the
    log-weights log N(u; 0, I) [K] of an expectation over N(0, I) (normalise them with a softmax)."""
    t = torch.linspace(-Q_RADIUS, Q_RADIUS, Q_POINTS, dtype=torch.float64)
    u = torch.stack(torch.meshgrid(t, t, indexing="ij"), -1).reshape(-1, 2)
    return u, log_standard_normal(u)


@torch.inference_mode()
def gaussian_quadrature(model, x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> GaussianQuadrature:
    """Expectations under q = N(mean, diag exp(logvar)) [2] for one image x [1, C, H, W], by the
    trapezoid rule on z = μ + σ ⊙ u, u on [-6.5, 6.5]² (q's weight beyond: e^-21)."""
    u, log_w = gaussian_nodes()
    z = mean.double() + (0.5 * logvar.double()).exp() * u
    lik = log_likelihood(model, z[:, None, :].float(), x)[:, 0].double().reshape(Q_POINTS, Q_POINTS)
    log_w = log_w.reshape(Q_POINTS, Q_POINTS)
    full = _weighted_mean(lik, log_w)
    half = _weighted_mean(lik[::2, ::2], log_w[::2, ::2])
    kl = float(gaussian_kl(mean.double(), logvar.double()).sum())
    return GaussianQuadrature(expected_log_lik=float(full), kl_prior=kl, check=float(abs(full - half)))


def _weighted_mean(values: torch.Tensor, log_w: torch.Tensor) -> torch.Tensor:
    w = torch.softmax(log_w.flatten(), 0)  # normalised: the e^-21 of q beyond the box is dropped
    return (w * values.flatten()).sum()


def kl_to_posterior(grid: PosteriorGrid, mean, logvar) -> float:
    """KL(q ‖ p(z|x)) = E_q[log q(z) − log p(z|x)] summed on the posterior's drawn grid, with p(z|x)
    normalised by that grid's own sum (not by the quadrature's p(x)): the identity
    log p(x) − ELBO(q) = KL(q ‖ p(z|x)) is then a check between two independent computations.
    The grid's spacing is at most half of q's σ (elbo_parts picks it so) and it holds q to 5σ."""
    g2, g1 = np.meshgrid(grid.z2, grid.z1, indexing="ij")
    z = torch.from_numpy(np.stack([g1, g2], -1))
    log_q = log_normal(z, torch.as_tensor(mean).double(), torch.as_tensor(logvar).double()).numpy()
    log_post = grid.log_density - np.log(np.exp(grid.log_density).sum() * grid.cell)
    w = np.exp(log_q - log_q.max())
    return float((w * (log_q - log_post)).sum() / w.sum())


def ellipse(mean, cov, k: float = 1.0, n: int = ELLIPSE_POINTS) -> np.ndarray:
    """The k-σ ellipse {z : (z − m)^T C^{-1} (z − m) = k²} of a 2-D Gaussian as [n, 2] vertices."""
    lam, vec = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    t = np.linspace(0.0, 2 * math.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)], 1) * (k * np.sqrt(np.clip(lam, 0.0, None)))
    return np.asarray(mean, dtype=np.float64) + circle @ vec.T
