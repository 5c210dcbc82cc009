"""Walking the latent space: interpolation, manifold grids, traversals, neighbours, ordering.

The prior is N(0, I), so "evenly spaced in probability" means evenly spaced quantiles pushed
through the inverse Gaussian CDF: Kingma & Welling's Figure 4 draws its 2-D manifold that way.
"""

from __future__ import annotations

import math

import torch

from ..model.losses import gaussian_kl


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Straight line from z0 to z1 ([D] each) in `steps` points: [steps, D]."""
    t = torch.linspace(0, 1, steps, dtype=z0.dtype)[:, None]
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Spherical interpolation (White, 2016, "Sampling Generative Networks").

    Under a high-dimensional Gaussian prior almost all mass lies near the shell |z| ~ sqrt(D);
    the midpoint of a straight line falls inside it, where the decoder saw few codes. Slerp
    follows the great circle, interpolating the norm linearly, so every point stays typical.
    """
    t = torch.linspace(0, 1, steps, dtype=z0.dtype)[:, None]
    n0, n1 = z0.norm(), z1.norm()
    if n0 < 1e-8 or n1 < 1e-8:
        return lerp(z0, z1, steps)
    u0, u1 = z0 / n0, z1 / n1
    omega = torch.arccos(torch.clamp((u0 * u1).sum(), -1.0, 1.0))
    if omega.abs() < 1e-4:
        return lerp(z0, z1, steps)
    so = torch.sin(omega)
    direction = (torch.sin((1 - t) * omega) / so) * u0 + (torch.sin(t * omega) / so) * u1
    return direction * ((1 - t) * n0 + t * n1)


def grid_values(n: int, span: float, mode: str = "quantile") -> torch.Tensor:
    """n values along one axis: prior quantiles in [1-span, span] ('quantile', span in (0.5, 1))
    or evenly in [-span, span] standard deviations ('sigma')."""
    if mode == "quantile":
        if not 0.5 < span < 1:
            raise ValueError("A quantile span must lie between 0.5 and 1 (e.g. 0.95).")
        q = torch.linspace(1 - span, span, n, dtype=torch.float64)
        return (math.sqrt(2) * torch.erfinv(2 * q - 1)).float()
    if mode == "sigma":
        if span <= 0:
            raise ValueError("A sigma span must be positive (e.g. 2.5).")
        return torch.linspace(-span, span, n)
    raise ValueError(f"Unknown grid mode {mode!r}: use 'quantile' or 'sigma'.")


def manifold_grid(base: torch.Tensor, dims: tuple[int, int], values: torch.Tensor) -> torch.Tensor:
    """Codes for a rows x cols grid that varies dims (row, col) of `base` [D]: [n*n, D].

    Rows run from high to low values so that the picture's y axis points up, as in a plot.
    """
    n = len(values)
    z = base.repeat(n * n, 1)
    rows = values.flip(0).repeat_interleave(n)
    cols = values.repeat(n)
    z[:, dims[0]] = rows
    z[:, dims[1]] = cols
    return z


def traversal(base: torch.Tensor, dim: int, values: torch.Tensor) -> torch.Tensor:
    """Vary one dimension of `base` [D] over `values`: [len(values), D]."""
    z = base.repeat(len(values), 1)
    z[:, dim] = values
    return z


def dimension_order(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Latent dimensions, most informative first: by average KL, which for a VAE measures how
    much each unit says about x; where KL is infinite (the autoencoder) by the variance of the
    means across the data (the active-unit statistic of Burda et al. 2016)."""
    kl = gaussian_kl(mean, logvar).mean(0)
    score = kl if torch.isfinite(kl).all() else mean.var(0)
    return torch.argsort(score, descending=True)


def nearest_neighbours(query: torch.Tensor, codes: torch.Tensor, k: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and Euclidean distances of the k codes nearest to each query [Q, D]: ([Q, k], [Q, k])."""
    d = torch.cdist(query, codes)
    dist, idx = torch.topk(d, min(k, len(codes)), largest=False)
    return idx, dist


def knn_vote(query: torch.Tensor, codes: torch.Tensor, labels: torch.Tensor, k: int = 10):
    """Class of each query code [Q, D] by a vote of its k nearest codes: (classes [Q], vote share [Q]).

    The share is what fraction of the k neighbours agree: 1.0 is a code deep inside one class's
    region, ~1/k one that sits where classes mix (or a model whose codes carry no class at all).
    """
    idx, _ = nearest_neighbours(query, codes, k)
    votes = labels[idx]  # [Q, k]
    n_classes = int(labels.max()) + 1
    counts = torch.zeros(len(query), n_classes, dtype=torch.long).scatter_add_(1, votes, torch.ones_like(votes))
    best = counts.argmax(1)
    return best, counts.gather(1, best[:, None])[:, 0].float() / idx.shape[1]
