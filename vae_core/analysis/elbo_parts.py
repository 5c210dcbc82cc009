"""The stages of vae_core.analysis.elbo.elbo_report: exact at D = 2, by sampling above.

Each stage fills its fields of the report and records its wall time; every random draw comes
from its own generator (seeded from the report's seed and the stage's name), so changing one
stage's settings does not change another stage's draws.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ..model.losses import gaussian_kl
from .estimator_curves import curve_draws, curves_from_draws, draw_log_weights
from .gaps import fit_by_sampling, fit_on_grid, laplace_start
from .gradient_variance import gradient_variance
from .likelihood import log_likelihood
from .posterior_grid import (
    ellipse,
    gaussian_quadrature,
    grid_size,
    kl_to_posterior,
    log_joint_on_box,
    posterior_grid,
    shown_box,
)
from .quadrature import integrate

STAGES = ("samples", "curves", "gradients", "fit")
PAIRED_DRAWS = 2048  # draws scoring q* against q at D > 2
EXACT_STARTS = ("encoder", "posterior moments", "posterior mode")  # q*'s starts at D = 2, in order


@dataclass
class Samples:
    z: np.ndarray  # [L, D] draws from q(z|x)
    log_lik: np.ndarray  # [L] log p(x|z_l), nats
    images: np.ndarray  # [L, C, H, W] their decoded means in [0, 1]


def generators(seed: int) -> dict[str, torch.Generator]:
    """One torch.Generator per stage from numpy's SeedSequence(seed): independent streams that
    differ in the low 32 bits the CPU generator keeps (issue 18)."""
    children = np.random.SeedSequence(int(seed)).spawn(len(STAGES))
    seeds = [int(c.generate_state(1, np.uint32)[0]) for c in children]
    return {name: torch.Generator().manual_seed(s) for name, s in zip(STAGES, seeds, strict=True)}


class Clock:
    """Stage timings into report.seconds, and progress(done, total, stage) after each stage."""

    def __init__(self, report, progress, total: int):
        self.report, self.progress, self.total, self.done = report, progress, total, 0
        self.last = time.perf_counter()

    def tick(self, stage: str) -> None:
        now = time.perf_counter()
        self.report.seconds[stage] = now - self.last
        self.last, self.done = now, self.done + 1
        if self.progress is not None:
            self.progress(self.done, self.total, stage)


def draw_samples(model, x, mean, logvar, n: int, generator: torch.Generator) -> Samples:
    """n draws z_l ~ q with log p(x|z_l) and their decoded images."""
    eps = torch.randn(n, mean.shape[-1], generator=generator)
    with torch.inference_mode():
        z = mean + (0.5 * logvar).exp() * eps
        logits = model.decode_logits(z)
        lik = log_likelihood(model, z[:, None, :], x)[:, 0]
    return Samples(z.double().numpy(), lik.double().numpy(), torch.sigmoid(logits).numpy())


def _kl(mean, logvar) -> float:
    return float(gaussian_kl(torch.as_tensor(mean).double(), torch.as_tensor(logvar).double()).sum())


def _common(model, x, mean, logvar, report, settings, gens, clock: Clock):
    """What both paths share: the sample strip, the L/K curves, the gradient variance.
    Returns the curves' draws ε and their log p(x|z) (the D > 2 path reuses them)."""
    report.samples = draw_samples(model, x, mean, logvar, settings.samples, gens["samples"])
    clock.tick("samples")
    eps = curve_draws(gens["curves"], settings.curve_ns, settings.curve_repeats, mean.shape[-1])
    lik, log_w = draw_log_weights(model, x, mean, logvar, eps)
    report.curves = curves_from_draws(lik, log_w, _kl(mean, logvar), settings.curve_ns)
    clock.tick("curves")
    report.gradients = gradient_variance(
        model, x, mean, logvar, gens["gradients"], settings.gradient_ns, settings.gradient_repeats
    )
    clock.tick("gradients")
    return eps, lik


def exact_parts(model, x, mean, logvar, report, settings, progress) -> None:
    """D = 2: p(x) and the posterior by quadrature, q* on the posterior's grid, every term exact."""
    clock, gens = Clock(report, progress, 6), generators(report.seed)
    with torch.inference_mode():
        quad = integrate(model, x, mean[None], logvar[None])
    clock.tick("log p(x)")
    box = shown_box(quad, [(mean, logvar)])
    conditional = 1 / np.sqrt(np.diag(np.linalg.inv(quad.cov[0].numpy())))  # the posterior's σ(z_j | z_-j)
    n = grid_size(box, [np.exp(0.5 * logvar.double().numpy()), conditional], settings.grid_points)
    z1, z2, lj = log_joint_on_box(model, x, box, n)
    report.posterior = posterior_grid(quad, z1, z2, lj)
    clock.tick("posterior")
    # Three starts for the basins a Gaussian can fall in: the encoder's q, the posterior's moments
    # (its conditional variances) and a Laplace fit at its highest mode.
    moments = quad.mean[0], torch.from_numpy(np.log(conditional**2))
    fit = fit_on_grid(z1, z2, lj, [(mean, logvar), moments, laplace_start(z1, z2, lj)], settings.fit_steps)
    enc = gaussian_quadrature(model, x, mean, logvar)
    star = gaussian_quadrature(model, x, torch.from_numpy(fit.mean), torch.from_numpy(fit.logvar))
    log_px = report.posterior.log_px
    report.expected_log_lik, report.kl_prior, report.elbo = enc.expected_log_lik, enc.kl_prior, enc.elbo
    report.log_px, report.log_px_method = log_px, "quadrature"
    report.gap, report.kl_posterior = log_px - enc.elbo, kl_to_posterior(report.posterior, mean, logvar)
    _q_star(report, fit, star.elbo, EXACT_STARTS[fit.start])
    for name, (m, lv) in {"q": (mean, logvar), "q*": (fit.mean, fit.logvar)}.items():
        cov = np.diag(np.exp(np.asarray(lv, dtype=np.float64)))
        for k in (1, 2):
            report.ellipses[f"{name} {k}σ"] = ellipse(np.asarray(m, dtype=np.float64), cov, k)
    clock.tick("q*")
    _common(model, x, mean, logvar, report, settings, gens, clock)


def sampled_parts(model, x, mean, logvar, report, settings, progress) -> None:
    """D > 2: log p(x) by the pooled IW bound; the ELBOs of q and q* on the same draws."""
    clock, gens = Clock(report, progress, 4), generators(report.seed)
    eps, lik = _common(model, x, mean, logvar, report, settings, gens, clock)
    curves = report.curves
    fit = fit_by_sampling(model, x, mean, logvar, gens["fit"], settings.fit_steps)
    # q*'s ELBO on the first PAIRED_DRAWS of the curves' ε (common random numbers): the
    # amortisation gap is a difference of two estimates, and pairing cancels most of their noise.
    flat_eps, flat_lik = eps.reshape(-1, eps.shape[-1])[:PAIRED_DRAWS], lik.flatten()[:PAIRED_DRAWS]
    star = torch.from_numpy(fit.mean).float(), torch.from_numpy(fit.logvar).float()
    lik_star, _ = draw_log_weights(model, x, *star, flat_eps)
    diff = lik_star - flat_lik
    report.expected_log_lik, report.kl_prior = float(lik.mean()), _kl(mean, logvar)
    report.elbo, report.elbo_se = curves.pooled_elbo, curves.pooled_elbo_se
    report.log_px, report.log_px_method = curves.pooled_iw, f"importance-weighted, K = {curves.pooled_k:,}"
    report.gap = report.log_px - report.elbo
    amortisation = float(diff.mean()) - _kl(fit.mean, fit.logvar) + report.kl_prior
    _q_star(report, fit, report.elbo + amortisation, "encoder")
    report.amortisation_gap_se = float(diff.std() / len(diff) ** 0.5)
    clock.tick("q*")


def _q_star(report, fit, elbo_star: float, start: str) -> None:
    report.q_star_mean, report.q_star_logvar, report.q_star_trace = fit.mean, fit.logvar, fit.trace
    report.q_star_start = start
    report.q_star_elbo = elbo_star
    report.approximation_gap = report.log_px - elbo_star
    report.amortisation_gap = elbo_star - report.elbo
