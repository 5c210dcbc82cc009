"""The aggregate posterior's log-density, q(z) = (1/N) sum_i N(z; mu_i, diag sigma_i²), fast.

Every kind of model ends up as a mixture of N diagonal Gaussians (Hoffman & Johnson 2016):
a VAE's (and a KL-only model's) posteriors are those Gaussians; an autoencoder's posteriors
are points, so its q is a kernel density estimate, kernel i = N(mu_i, h_i² diag Var(codes)),
the codes standardised per dimension as scikit-learn's KernelDensity users do. The widths:

- "adaptive" (default): Abramson's square-root law (Silverman 1986, sec. 5.3): a pilot width h
  by likelihood cross-validation, then h_i = h (f(mu_i) / g)^(-1/2), f the pilot density, g its
  geometric mean: narrow kernels in a dense core, wide ones in the tails.
- "cv": one width h, the one in KDE_FACTORS maximising the leave-one-out log-likelihood of
  KDE_QUERIES evenly spaced codes (Silverman 1986, sec. 3.4.4).
- "scott": h = N^(-1/(D+4)) (Scott 1992), right for Gaussian codes; or a number.

Evaluation is exact and in log-space: for points in blocks, the quadratic form in float64 by
two matrix products and the exponentials in float32 (3x faster, exact to 1e-7); on a 2-D
product grid the diagonal Gaussians factorise over the axes, so the whole grid is one matrix
product of per-axis kernels (cells where that underflows are recomputed pointwise).
"""

from __future__ import annotations

import math

import torch

from ..model.losses import LOG_2PI
from ..model.posterior import is_point_mass

BLOCK_ELEMENTS = 4_000_000  # (query point, component) pairs per block: ~32 MB of float64
KDE_FACTORS = tuple(10 ** (k / 6 - 2) for k in range(13))  # widths tried by cross-validation: 0.01..1
KDE_QUERIES = 250  # codes whose leave-one-out likelihood picks the width
PILOT_CENTRES = 2000  # codes in the adaptive pilot density (all of them up to this many)


def scott_factor(n: int, d: int) -> float:
    """Scott's rule: kernel std = n^(-1/(d+4)) times the data's std (Scott 1992, eq. 6.42)."""
    return n ** (-1.0 / (d + 4))


def _scale(codes: torch.Tensor) -> torch.Tensor:
    """Per-dimension std of the codes [D] (a dimension that never varies gets a tiny one)."""
    std = codes.double().std(0)
    return std.clamp_min(1e-6 * float(std.max().clamp_min(1e-12)))


def kde_factor(codes: torch.Tensor, rule="cv") -> float:
    """One width factor h for codes [N, D]: a number as given, "scott", or "cv"."""
    n, d = codes.shape
    if rule == "scott":
        return scott_factor(n, d)
    if not isinstance(rule, str):
        if not 0 < float(rule) < 100:
            raise ValueError(f"A KDE bandwidth factor must be in (0, 100), not {rule}.")
        return float(rule)
    if rule != "cv":
        raise ValueError(f"Unknown bandwidth rule {rule!r}: use 'adaptive', 'cv', 'scott' or a number.")
    u = codes.double() / _scale(codes)
    idx = torch.arange(0, n, max(1, n // KDE_QUERIES))
    d2 = torch.cdist(u[idx], u).pow(2)
    d2[torch.arange(len(idx)), idx] = float("inf")  # leave each query out of its own density
    d2 = d2.float()
    scores = [torch.logsumexp(-d2 / (2 * h * h), 1).double().mean() - d * math.log(h) for h in KDE_FACTORS]
    return KDE_FACTORS[int(torch.stack(scores).argmax())]


def kde_bandwidths(codes: torch.Tensor, rule="adaptive") -> torch.Tensor:
    """Per-code width factors h_i [N]: Abramson's adaptive widths around a cross-validated
    pilot for "adaptive", else kde_factor(codes, rule) for every code."""
    codes = codes.double()
    n, d = codes.shape
    h = kde_factor(codes, "cv" if rule == "adaptive" else rule)
    if rule != "adaptive":
        return torch.full((n,), h, dtype=torch.float64)
    u = codes / _scale(codes)
    if n <= PILOT_CENTRES:
        pilot = log_mixture(u, u, torch.full_like(u, 2 * math.log(h)))
    else:  # a subset of centres, plus each code's own kernel so a lone code in the tails is not at density 0
        centres = u[:: math.ceil(n / PILOT_CENTRES)]
        own = torch.full((n,), -d * math.log(h) - 0.5 * d * LOG_2PI, dtype=u.dtype)
        rest = log_mixture(u, centres, torch.full_like(centres, 2 * math.log(h))) + math.log(len(centres))
        pilot = torch.logaddexp(rest, own) - math.log(len(centres) + 1)
    return h * torch.exp(-0.5 * (pilot - pilot.mean()))  # f^(-1/2), normalised by the geometric mean


def mixture_of(mean: torch.Tensor, logvar: torch.Tensor, bandwidth="adaptive"):
    """The aggregate posterior as N diagonal Gaussians (means, log-variances [N, D], float64):
    the posteriors themselves, or for point masses the KDE kernels. bandwidth: a rule for
    kde_bandwidths, or per-code factors [N] it returned."""
    mean = mean.double()
    if not is_point_mass(logvar):
        return mean, logvar.double()
    hs = bandwidth if isinstance(bandwidth, torch.Tensor) else kde_bandwidths(mean, bandwidth)
    return mean, 2 * (hs.double()[:, None].log() + _scale(mean).log())


def log_mixture(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log (1/N) sum_i N(z; mean_i, diag exp(logvar_i)) for each row of z [M, D], in blocks."""
    z, mean, logvar = z.double(), mean.double(), logvar.double()
    n, d = mean.shape
    prec = torch.exp(-logvar)  # [N, D]
    # log N = -1/2 sum_d (z² prec - 2 z mu prec + mu² prec + logvar + log 2 pi): one matmul of
    # [z², z, 1] against the components' coefficients, in float64 (no cancellation)
    const = (mean * mean * prec + logvar).sum(1, keepdim=True) + d * LOG_2PI  # [N, 1]
    coef = -0.5 * torch.cat([prec, -2 * mean * prec, const], 1)  # [N, 2D + 1]
    step = max(1, BLOCK_ELEMENTS // n)
    out = []
    for i in range(0, len(z), step):
        zb = z[i : i + step]
        logits = torch.cat([zb * zb, zb, torch.ones_like(zb[:, :1])], 1) @ coef.T  # [B, N]
        out.append(torch.logsumexp(logits.float(), 1).double() - math.log(n))
    return torch.cat(out) if out else z.new_empty(0)


def log_mixture_grid(xs: torch.Tensor, ys: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log q on the product grid ys x xs [ny, nx] for a 2-D mixture: per-axis kernels, one matmul."""
    xs, ys, mean, logvar = xs.double(), ys.double(), mean.double(), logvar.double()

    def axis(values, k):  # log N(v; mean_ik, var_ik) for every grid value and component: [n_values, N]
        return -0.5 * ((values[:, None] - mean[:, k]) ** 2 * torch.exp(-logvar[:, k]) + logvar[:, k] + LOG_2PI)

    ax, ay = axis(xs, 0), axis(ys, 1)
    mx, my = ax.amax(1, keepdim=True), ay.amax(1, keepdim=True)
    total = torch.exp(ay - my) @ torch.exp(ax - mx).T  # [ny, nx]; each factor in (0, 1]
    out = total.log() + my + mx.T - math.log(len(mean))
    lost = total < 1e-250  # no component near both the row and the column: recompute those cells exactly
    if lost.any():
        iy, ix = lost.nonzero(as_tuple=True)
        out[iy, ix] = log_mixture(torch.stack([xs[ix], ys[iy]], 1), mean, logvar)
    return out
