"""What a sampler draws and where the prior is empty: sample quality, prior holes, code scale.

Sample quality (after Salimans et al. 2016; Ghosh et al. 2020): decode codes, let a classifier
trained on real data (classifier.py) label them. A sample it cannot name with confidence >= 0.5
does not look like any class; the entropy of the predicted-class histogram measures mode
coverage (log K: every class equally often; 0: one class only).

Prior holes as a density comparison: the aggregate posterior q(z) = (1/N) sum_i N(z; mu_i,
diag sigma_i²) (Hoffman & Johnson 2016, "ELBO surgery") is what the decoder was trained on; a
prior sample lands in a hole where q(z) < p(z)/10: the prior puts mass there, the data almost
none. The share of the prior's mass in holes is E_{z~p}[q(z) < p(z)/10], a Monte Carlo average
over prior draws. A plain autoencoder's posteriors are points, so its q is a Gaussian kernel
density estimate of its codes instead, with Scott's bandwidth rule (scipy.stats.gaussian_kde's
default): kernel covariance = n^(-2/(D+4)) · Cov(codes).

Densities are computed in float64 log-space, as logsumexp over the N components, a block of
query points at a time: two matrix products per block, so 2,000 prior draws against 4,500
codes take well under a second.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

LOW_CONFIDENCE = 0.5  # a sample whose most probable class has less than this is "unrecognisable"
HOLE_RATIO = 0.1  # q(z) below this share of p(z) is a hole
BLOCK_ELEMENTS = 4_000_000  # (query point, code) pairs per block: ~32 MB of float64


@dataclass
class SampleQuality:
    n: int  # samples judged
    low_confidence: float  # share whose top class probability is below LOW_CONFIDENCE
    mean_confidence: float  # mean top class probability
    class_entropy: float  # entropy (nats) of the predicted-class histogram: mode coverage
    max_entropy: float  # log K: the entropy when every class is drawn equally often
    class_shares: list[float]  # share of samples predicted as each class
    accuracy: float | None = None  # share predicted as their true label, when labels were given

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class PriorHoles:
    share: float  # share of the prior's mass where q(z) < ratio · p(z)
    se: float  # its Monte Carlo standard error, sqrt(share (1 - share) / n_samples)
    n_samples: int  # prior draws in the estimate
    ratio: float  # the threshold on q/p
    density: str  # how q was estimated, in words
    bandwidth: float | None = None  # KDE only: Scott's factor (kernel std = factor · code std)
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


def judge(probs: torch.Tensor, labels: torch.Tensor | None = None) -> SampleQuality:
    """Summarise classifier probabilities [N, K] of decoded samples."""
    if probs.ndim != 2 or len(probs) == 0:
        raise ValueError(f"Expected class probabilities [N, K] for at least one sample, not {list(probs.shape)}.")
    conf, pred = probs.max(1)
    shares = torch.bincount(pred, minlength=probs.shape[1]).double() / len(pred)
    nz = shares[shares > 0]
    return SampleQuality(
        n=len(probs),
        low_confidence=float((conf < LOW_CONFIDENCE).double().mean()),
        mean_confidence=float(conf.double().mean()),
        class_entropy=float(-(nz * nz.log()).sum()) + 0.0,  # + 0.0: one class gives 0.0, not -0.0
        max_entropy=math.log(probs.shape[1]),
        class_shares=shares.tolist(),
        accuracy=None if labels is None else float((pred == labels).double().mean()),
    )


@torch.inference_mode()
def sample_quality(model, classifier, z: torch.Tensor, labels=None, batch_size: int = 2000) -> SampleQuality:
    """Decode codes z [N, D] with `model` and judge the images with `classifier`."""
    want, draws = tuple(classifier.image_shape), tuple(model.config.image_shape)
    if want != draws:
        raise ValueError(f"The classifier judges {want} images, the model draws {draws}.")
    if z.ndim != 2 or z.shape[1] != model.config.latent_dim:
        raise ValueError(f"Codes must be [N, {model.config.latent_dim}], not {list(z.shape)}.")
    probs = torch.cat(
        [classifier.predict_proba(model.decode(z[i : i + batch_size].float())) for i in range(0, len(z), batch_size)]
    )
    return judge(probs, labels)


def is_point_mass(logvar: torch.Tensor) -> bool:
    return bool(torch.isneginf(logvar).all())


def scott_factor(n: int, d: int) -> float:
    """Scott's rule: kernel std = n^(-1/(d+4)) times the data's std (Scott 1992, eq. 6.42)."""
    return n ** (-1.0 / (d + 4))


def log_aggregate_posterior(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log q(z) [M] at points z [M, D]: the mixture of the N posteriors, or, when they are points
    (logvar = -inf, the autoencoder), a Gaussian KDE of the codes with Scott's bandwidth."""
    _check_codes(z, mean, logvar)
    z, mean = z.double(), mean.double()
    if is_point_mass(logvar):
        n, d = mean.shape
        cov = torch.cov(mean.T).reshape(d, d) * scott_factor(n, d) ** 2
        cov = cov + torch.eye(d, dtype=cov.dtype) * (1e-9 * cov.diagonal().mean().clamp_min(1e-12))
        chol = torch.linalg.cholesky(cov)
        white = lambda a: torch.linalg.solve_triangular(chol, a.T, upper=False).T  # noqa: E731
        # N(z; mu_i, H) = N(L^-1 z; L^-1 mu_i, I) / |det L|
        return _log_mixture(white(z), white(mean), torch.zeros_like(mean)) - chol.diagonal().log().sum()
    return _log_mixture(z, mean, logvar.double())


def _log_mixture(z, mean, logvar) -> torch.Tensor:
    """log (1/N) sum_i N(z; mean_i, diag exp(logvar_i)) for each row of z, in blocks."""
    n, d = mean.shape
    prec = torch.exp(-logvar)  # [N, D]
    # -2 log N = sum_d (z² prec - 2 z mu prec + mu² prec + logvar + log 2 pi): two matmuls per block
    const = (mean * mean * prec + logvar).sum(1) + d * math.log(2 * math.pi)  # [N]
    step = max(1, BLOCK_ELEMENTS // n)
    out = []
    for i in range(0, len(z), step):
        zb = z[i : i + step]
        quad = (zb * zb) @ prec.T - 2 * zb @ (mean * prec).T + const  # [B, N]
        out.append(torch.logsumexp(-0.5 * quad, 1) - math.log(n))
    return torch.cat(out) if out else z.new_empty(0)


def log_prior(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) [M]."""
    z = z.double()
    return -0.5 * (z * z).sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi)


def prior_holes(
    mean: torch.Tensor,
    logvar: torch.Tensor,
    generator: torch.Generator,
    n_samples: int = 2000,
    ratio: float = HOLE_RATIO,
    floor: bool = True,
) -> PriorHoles:
    """Share of the prior's mass where the aggregate posterior q(z) < ratio · p(z).

    floor: also measure what this estimator reports when q *is* the prior, with the same N, D
    and posterior widths (codes drawn from N(0, I - diag E sigma²), each with the mean sigma²).
    With N codes in many dimensions a mixture of narrow posteriors is mostly empty space even
    then (about 100 % at D = 16, N = 4,500), so a share near its floor says nothing.
    """
    if mean.ndim != 2 or len(mean) < 2:
        raise ValueError(f"Need posterior means [N >= 2, D], not {list(mean.shape)}.")
    point = is_point_mass(logvar)
    holes = prior_holes_under(
        lambda z: log_aggregate_posterior(z, mean, logvar),
        mean.shape[1],
        generator,
        n_samples,
        ratio,
        "Gaussian KDE of the codes (Scott's rule)" if point else "aggregate posterior (mixture of q(z|x))",
    )
    holes.bandwidth = scott_factor(*mean.shape) if point else None
    if floor:
        n, d = mean.shape
        var = torch.zeros(d) if point else logvar.double().exp().mean(0).clamp(1e-12, 1.0).float()
        ref_mean = torch.randn(n, d, generator=generator) * (1 - var).sqrt()
        ref_logvar = torch.full((n, d), float("-inf")) if point else var.log().expand(n, d)
        holes.floor = prior_holes(ref_mean, ref_logvar, generator, n_samples, ratio, floor=False).share
    return holes


def prior_holes_under(
    log_q, dim: int, generator: torch.Generator, n_samples: int = 2000, ratio: float = HOLE_RATIO, density: str = ""
) -> PriorHoles:
    """The same share for any density of the codes: log_q maps points [M, D] to log q [M]
    (e.g. a fitted mixture's DensitySampler.log_prob, a smooth estimate of q in many dimensions)."""
    if n_samples < 1 or not 0 < ratio < 1:
        raise ValueError(f"Need n_samples >= 1 and 0 < ratio < 1 (got {n_samples}, {ratio}).")
    z = torch.randn(n_samples, dim, generator=generator, dtype=torch.float64)
    share = float(((log_q(z).double() - log_prior(z)) < math.log(ratio)).double().mean())
    return PriorHoles(share, math.sqrt(share * (1 - share) / n_samples), n_samples, ratio, density)


def log_ratio_grid(
    mean: torch.Tensor, logvar: torch.Tensor, extent, resolution: int = 100, ratio: float = HOLE_RATIO
) -> RatioGrid:
    """log q(z) - log p(z) on a resolution x resolution grid over extent (x_min, x_max, y_min, y_max),
    for a 2-D latent space: the app shades cells below log(ratio) as holes on the native map."""
    if mean.shape[1] != 2:
        raise ValueError(f"The density-ratio map needs a 2-D latent space, this one has {mean.shape[1]} dimensions.")
    x0, x1, y0, y1 = (float(v) for v in extent)
    if not (x1 > x0 and y1 > y0) or not 2 <= resolution <= 1000:
        raise ValueError(f"Need x_min < x_max, y_min < y_max and 2 <= resolution <= 1000 (got {extent}, {resolution}).")
    xs = torch.linspace(x0, x1, resolution, dtype=torch.float64)
    ys = torch.linspace(y0, y1, resolution, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    z = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    lr = (log_aggregate_posterior(z, mean, logvar) - log_prior(z)).reshape(resolution, resolution)
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
