"""Where the prior is empty: prior holes, the density-ratio map and the codes' scale.

Prior holes as a density comparison: the aggregate posterior q(z) = (1/N) sum_i N(z; mu_i,
diag sigma_i²) (Hoffman & Johnson 2016, "ELBO surgery") is what the decoder was trained on; a
prior sample lands in a hole where q(z) < p(z)/10: the prior puts mass there, the data almost
none. The share of the prior's mass in holes is E_{z~p}[q(z) < p(z)/10], a Monte Carlo average
over prior draws. A plain autoencoder's posteriors are points, so its q is a kernel density
estimate of its codes instead (density.py), by default with Abramson's adaptive widths. How
wide is a choice, and on an autoencoder's codes it shows: ae-z2's are a dense core in a wide
cloud (a quarter of them within radius 2 of the origin, std 8), and one width for all smears
the core over the prior's mass. On ae-z2 the share of the prior's mass in "holes" is 29 % with
Scott's width, 17 % with the cross-validated one, 0 % with adaptive widths, 0 % under a
10-component mixture fitted to the codes, and counting codes in balls of radius 0.5 / 1 around
prior draws finds q < p/10 at 6 % / 0 % of them. "scott", "cv" or a number can be asked for;
results should say which (PriorHoles.density does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..model.losses import log_standard_normal
from ..model.posterior import is_point_mass
from .density import kde_bandwidths, log_mixture, log_mixture_grid, mixture_of
from .thresholds import HOLE_RATIO


@dataclass
class PriorHoles:
    share: float  # share of the prior's mass where q(z) < ratio · p(z)
    se: float  # its Monte Carlo standard error, sqrt(share (1 - share) / n_samples)
    n_samples: int  # prior draws in the estimate
    ratio: float  # the threshold on q/p
    density: str  # how q was estimated, in words
    bandwidth: float | None = None  # KDE only: the (geometric-mean) width factor h; kernel variance h² · Var(codes)
    floor: float | None = None  # the share this estimator gives when q equals the prior (same N, D, widths)


@dataclass
class RatioGrid:
    log_ratio: torch.Tensor  # [ny, nx] log q(z) - log p(z); row 0 is the lowest y
    xs: torch.Tensor  # [nx] grid coordinates along z1
    ys: torch.Tensor  # [ny] grid coordinates along z2
    extent: tuple[float, float, float, float]  # (x_min, x_max, y_min, y_max)
    threshold: float  # log(ratio): cells below it are holes


@dataclass
class CodeScale:
    std: list[float]  # per-dimension std of the posterior means (the codes)
    aggregate_std: list[float]  # per-dimension std of the aggregate posterior: sqrt(Var mu + E sigma²); prior: 1
    mean: list[float]  # per-dimension mean of the codes; prior: 0
    rms_norm: float  # sqrt(E |mu|²): N(0, I) samples have sqrt(D)
    prior_rms_norm: float  # sqrt(D)


def log_aggregate_posterior(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor, bandwidth="adaptive"):
    """log q(z) [M] at points z [M, D]: the mixture of the N posteriors, or, when they are points
    (logvar = -inf, the autoencoder), a Gaussian KDE of the codes (bandwidth: density.mixture_of)."""
    _check_codes(z, mean, logvar)
    return log_mixture(z, *mixture_of(mean, logvar, bandwidth))


def prior_holes(
    mean: torch.Tensor,
    logvar: torch.Tensor,
    generator: torch.Generator,
    n_samples: int = 2000,
    ratio: float = HOLE_RATIO,
    floor: bool = True,
    bandwidth="adaptive",
) -> PriorHoles:
    """Share of the prior's mass where the aggregate posterior q(z) < ratio · p(z).

    floor: also measure what this estimator reports when q *is* the prior, with the same N, D
    and posterior widths (codes drawn from N(0, I - diag E sigma²), each with the mean sigma²).
    With N codes in many dimensions a mixture of narrow posteriors is mostly empty space even
    then (about 100 % at D = 16, N = 4,500), so a share near its floor says nothing.
    """
    if mean.ndim != 2 or len(mean) < 2:
        raise ValueError(f"Need posterior means [N >= 2, D], not {list(mean.shape)}.")
    _check_codes(mean, mean, logvar)
    point = is_point_mass(logvar)
    hs = kde_bandwidths(mean, bandwidth) if point else None
    mix = mixture_of(mean, logvar, hs)
    holes = prior_holes_under(
        lambda z: log_mixture(z, *mix),
        mean.shape[1],
        generator,
        n_samples,
        ratio,
        _kde_words(hs, bandwidth) if point else "aggregate posterior (mixture of q(z|x))",
    )
    holes.bandwidth = float(hs.log().mean().exp()) if point else None
    if floor:
        n, d = mean.shape
        var = torch.zeros(d) if point else logvar.double().exp().mean(0).clamp(1e-12, 1.0).float()
        ref_mean = torch.randn(n, d, generator=generator) * (1 - var).sqrt()
        ref_logvar = torch.full((n, d), float("-inf")) if point else var.log().expand(n, d)
        holes.floor = prior_holes(ref_mean, ref_logvar, generator, n_samples, ratio, False, bandwidth).share
    return holes


def _kde_words(hs: torch.Tensor, rule) -> str:
    if rule == "adaptive":
        h, lo, hi = hs.log().mean().exp(), hs.min(), hs.max()
        return f"adaptive Gaussian KDE of the codes (h = {h:.3g}; per code {lo:.2g} to {hi:.2g})"
    return f"Gaussian KDE of the codes (h = {hs[0]:.3g}, {rule if isinstance(rule, str) else 'given'})"


def prior_holes_under(
    log_q, dim: int, generator: torch.Generator, n_samples: int = 2000, ratio: float = HOLE_RATIO, density: str = ""
) -> PriorHoles:
    """The same share for any density of the codes: log_q maps points [M, D] to log q [M]
    (e.g. a fitted mixture's DensitySampler.log_prob, a smooth estimate of q in many dimensions)."""
    if n_samples < 1 or not 0 < ratio < 1:
        raise ValueError(f"Need n_samples >= 1 and 0 < ratio < 1 (got {n_samples}, {ratio}).")
    z = torch.randn(n_samples, dim, generator=generator, dtype=torch.float64)
    share = share_in_holes(log_q, z, ratio)
    return PriorHoles(share, math.sqrt(share * (1 - share) / n_samples), n_samples, ratio, density)


def share_in_holes(log_q, z: torch.Tensor, ratio: float = HOLE_RATIO) -> float:
    """Share of the prior draws z [M, D] where q(z) < ratio · p(z): the Monte Carlo estimate of
    the prior's mass in holes (every estimate of q in this package goes through here)."""
    return float(((log_q(z).double() - log_standard_normal(z.double())) < math.log(ratio)).double().mean())


def log_ratio_grid(
    mean: torch.Tensor,
    logvar: torch.Tensor,
    extent,
    resolution: int = 100,
    ratio: float = HOLE_RATIO,
    bandwidth="adaptive",
) -> RatioGrid:
    """log q(z) - log p(z) on a resolution x resolution grid over extent (x_min, x_max, y_min, y_max),
    for a 2-D latent space: the app shades cells below log(ratio) as holes on the native map."""
    _check_codes(mean, mean, logvar)
    if mean.shape[1] != 2:
        raise ValueError(f"The density-ratio map needs a 2-D latent space, this one has {mean.shape[1]} dimensions.")
    x0, x1, y0, y1 = (float(v) for v in extent)
    if not (x1 > x0 and y1 > y0) or not 2 <= resolution <= 1000:
        raise ValueError(f"Need x_min < x_max, y_min < y_max and 2 <= resolution <= 1000 (got {extent}, {resolution}).")
    xs = torch.linspace(x0, x1, resolution, dtype=torch.float64)
    ys = torch.linspace(y0, y1, resolution, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    z = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    log_q = log_mixture_grid(xs, ys, *mixture_of(mean, logvar, bandwidth))
    lr = log_q - log_standard_normal(z.double()).reshape(resolution, resolution)
    return RatioGrid(lr.float(), xs.float(), ys.float(), (x0, x1, y0, y1), math.log(ratio))


def code_scale(mean: torch.Tensor, logvar: torch.Tensor) -> CodeScale:
    """How the codes spread compared with N(0, I): per-dimension std and mean, and the RMS norm."""
    _check_codes(mean, mean, logvar)
    m = mean.double()
    var_post = torch.zeros_like(m) if is_point_mass(logvar) else logvar.double().exp()
    return CodeScale(
        std=m.std(0).tolist(),
        aggregate_std=(m.var(0) + var_post.mean(0)).sqrt().tolist(),
        mean=m.mean(0).tolist(),
        rms_norm=float((m * m).sum(1).mean().sqrt()),
        prior_rms_norm=math.sqrt(m.shape[1]),
    )


def _check_codes(z, mean, logvar) -> None:
    if mean.ndim != 2 or len(mean) < 2 or mean.shape != logvar.shape:
        raise ValueError(f"Need posterior means and log-variances [N >= 2, D] of one shape, not {list(mean.shape)}.")
    if z.ndim != 2 or z.shape[1] != mean.shape[1]:
        raise ValueError(f"Points must be [M, {mean.shape[1]}], not {list(z.shape)}.")
    if not torch.isfinite(mean).all() or torch.isnan(logvar).any() or torch.isposinf(logvar).any():
        raise ValueError("The codes contain NaN or infinite values.")
    if torch.isneginf(logvar).any() and not is_point_mass(logvar):
        raise ValueError("Some posteriors are points (log-variance -inf) and some are not: mix one kind only.")
