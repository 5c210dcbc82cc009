"""The ELBO of one image, every term of it, in one call: what the ELBO page draws.

    log p(x) = ELBO(q) + KL(q(z|x) ‖ p(z|x))                          (the identity)
    ELBO(q)  = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))                    (Kingma & Welling 2013, eq. 3)
    KL(q ‖ p(z|x)) = [log p(x) − ELBO(q*)] + [ELBO(q*) − ELBO(q)]     (Cremer et al. 2018)

`elbo_report(model, x, seed=...)` returns an ElboReport of plain floats and numpy arrays (cache
and pickle friendly). What is in it depends on the model:

- VAE or KL-only, D = 2 (`exact`): log p(x) by quadrature, the posterior on a grid, every term
  exact; Monte-Carlo only where the point is the estimator (curves, gradients, the samples).
- VAE or KL-only, D > 2: log p(x) is replaced by the IW bound with K = REPEATS × N_max draws
  (a lower bound: the gaps are lower bounds too); the ELBO terms and q*'s ELBO by Monte Carlo
  with standard errors; no posterior grid.
- Autoencoder: only its reconstruction and log p(x|z = code); `unavailable` says why the rest is
  missing (vae_core.analysis.likelihood keeps those sentences).
A KL-only model's posterior is its prior, and the numbers show it: the KL to the prior, the gap
and both of its parts are all close to 0.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .elbo_parts import Samples, exact_parts, sampled_parts
from .estimator_curves import REPEATS, SAMPLE_COUNTS, EstimatorCurves
from .gaps import FIT_STEPS
from .gradient_variance import GRADIENT_REPEATS, GRADIENT_SAMPLES, GradientVariance
from .likelihood import NEEDS_2D, NO_DENSITY, as_batch, latent_dim, log_likelihood, model_kind
from .posterior_grid import PosteriorGrid


@dataclass
class ElboSettings:
    samples: int = 8  # z_l drawn from q for the plane and the decoded strip
    curve_ns: tuple[int, ...] = SAMPLE_COUNTS  # L and K on the estimator curves
    curve_repeats: int = REPEATS  # estimates per L or K (their spread)
    gradient_ns: tuple[int, ...] = GRADIENT_SAMPLES  # S, draws per gradient estimate
    gradient_repeats: int = GRADIENT_REPEATS  # estimates per S (their variance)
    fit_steps: int = FIT_STEPS  # Adam steps fitting q* at D > 2 (a bound on L-BFGS's evaluations at D = 2)
    grid_points: int = 64  # per axis of the drawn posterior grid (D = 2) at least; q*'s objective too


@dataclass
class ElboReport:
    kind: str  # "vae" | "kl" | "ae"
    latent_dim: int
    exact: bool  # log p(x) and the posterior by quadrature (D = 2, not an autoencoder)
    seed: int
    q_mean: np.ndarray  # [D] the encoder's μ(x)
    q_logvar: np.ndarray  # [D] log σ²(x) (-inf for an autoencoder)
    reconstruction: np.ndarray  # [C, H, W] decoded μ(x)
    log_lik_at_mean: float  # log p(x|z = μ(x)), nats: all an autoencoder has
    # The terms (nats; log-probabilities, so ≤ 0 except the KLs and gaps). None: unavailable.
    expected_log_lik: float | None = None  # E_q[log p(x|z)], the reconstruction term
    kl_prior: float | None = None  # KL(q(z|x) ‖ p(z)), closed form
    elbo: float | None = None  # expected_log_lik − kl_prior
    elbo_se: float = 0.0  # Monte-Carlo standard error (0 when exact)
    log_px: float | None = None  # exact (quadrature) or the IW stand-in (a lower bound)
    log_px_method: str = ""  # "quadrature" | "importance-weighted, K = ..."
    gap: float | None = None  # log_px − elbo = KL(q ‖ p(z|x)) (a lower bound on it when not exact)
    kl_posterior: float | None = None  # KL(q ‖ p(z|x)) summed on the posterior's grid (exact only): = gap
    q_star_mean: np.ndarray | None = None  # [D] q*(z|x), the best Gaussian for this image
    q_star_logvar: np.ndarray | None = None
    q_star_elbo: float | None = None
    q_star_trace: np.ndarray | None = None  # the objective while fitting (nats; last: at q*)
    q_star_start: str = ""  # where the winning fit started (elbo_parts.EXACT_STARTS; "encoder" at D > 2)
    approximation_gap: float | None = None  # log_px − ELBO(q*)
    amortisation_gap: float | None = None  # ELBO(q*) − ELBO(q)
    amortisation_gap_se: float = 0.0  # its Monte-Carlo standard error (0 when exact)
    posterior: PosteriorGrid | None = None  # exact only
    ellipses: dict = field(default_factory=dict)  # "q 1σ", "q* 2σ", ...: [73, 2] vertices (D = 2)
    samples: Samples | None = None
    curves: EstimatorCurves | None = None
    gradients: GradientVariance | None = None
    unavailable: dict = field(default_factory=dict)  # what is missing -> why, in one sentence
    seconds: dict = field(default_factory=dict)  # stage -> wall seconds it took


def elbo_report(model, x, seed: int = 0, settings: ElboSettings | None = None, progress=None) -> ElboReport:
    """Everything about the ELBO of one image x ([C, H, W] or [1, C, H, W], in [0, 1]).

    Deterministic for a given seed (every random draw comes from generators seeded from it).
    `progress(done, total, stage)` is called after each stage for a progress bar.
    """
    settings = settings or ElboSettings()
    x = as_batch(model, x)
    if len(x) != 1:
        raise ValueError(f"elbo_report takes one image, not {len(x)}.")
    kind, d = model_kind(model), latent_dim(model)
    with torch.inference_mode():
        post = model.encode(x)
        recon_logits = model.decode_logits(post.mean)
        at_mean = float(log_likelihood(model, post.mean, x)[0])
    report = ElboReport(
        kind=kind,
        latent_dim=d,
        exact=kind != "ae" and d == 2,
        seed=int(seed),
        q_mean=post.mean[0].double().numpy(),
        q_logvar=post.logvar[0].double().numpy(),
        reconstruction=torch.sigmoid(recon_logits)[0].numpy(),
        log_lik_at_mean=at_mean,
    )
    if kind == "ae":
        for name in ("elbo", "log_px", "posterior", "gaps", "curves", "gradients"):
            report.unavailable[name] = NO_DENSITY
        return report
    started = time.perf_counter()
    parts = exact_parts if report.exact else sampled_parts
    parts(model, x, post.mean[0], post.logvar[0], report, settings, progress)
    if not report.exact:
        report.unavailable["posterior"] = f"This model has a {d}-D latent. {NEEDS_2D}"
    report.seconds["total"] = time.perf_counter() - started
    return report
