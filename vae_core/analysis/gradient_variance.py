"""Why the reparameterisation trick exists: two unbiased gradients of one ELBO, and their variance.

The ELBO's gradient with respect to q's parameters φ = (μ, log σ²) of one image needs
∇_φ E_q[f(z)], f(z) = log p(x|z) (the KL term is closed-form and the same in both):

- score function / REINFORCE (Kingma & Welling 2013, sec. 2.2; Williams 1992):
      ∇_φ E_q[f] = E_q[f(z) ∇_φ log q(z)],  ∇_μ log q = ε/σ,  ∇_{log σ²} log q = (ε² − 1)/2;
- reparameterised (Kingma & Welling sec. 2.3-2.4): z = μ + σ ⊙ ε, so
      ∇_φ E_q[f] = E_ε[∇_z f(z) ∂z/∂φ],  ∂z/∂μ = 1,  ∂z/∂ log σ² = σ ε / 2.

Both average S per-draw gradients; the variance of that average over repeats is plotted against
S. The score function multiplies f (about −100 nats) by a zero-mean factor, which is why its
variance is orders larger; a leave-one-out baseline (f minus the mean of the other S − 1 draws;
Kool et al. 2019, "Buy 4 REINFORCE samples, get a baseline for free") narrows the difference,
and is shown too. Variances are summed over the D coordinates of μ and of log σ².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..model.losses import gaussian_kl
from .likelihood import log_likelihood

GRADIENT_SAMPLES = (1, 2, 5, 10, 20, 50)  # S on the plot
GRADIENT_REPEATS = 24  # estimates per S: the variance over them
ESTIMATORS = ("reparameterised", "score", "score, baseline")
PARAMETERS = ("mean", "logvar")


@dataclass
class GradientVariance:
    ns: np.ndarray  # [M] S, draws per gradient estimate
    variance: dict  # estimator -> [M, 2]: variance over repeats of the S-draw estimate (μ, log σ²)
    per_draw_variance: dict  # estimator -> [2]: variance of one draw's gradient, over all draws
    ratio: np.ndarray  # [2] score / reparameterised per-draw variance, for μ and for log σ²
    gradient: dict  # estimator -> [2D]: the mean over all draws (they agree: both are unbiased)
    gradient_se: dict  # estimator -> [2D]: its standard error


def per_draw_gradients(model, x, mean, logvar, eps: torch.Tensor):
    """f = log p(x|z) [N] and the per-draw gradients [N, 2D] (μ then log σ²) of both estimators."""
    mean, logvar = mean.float(), logvar.float()
    sigma = (0.5 * logvar).exp()
    z = (mean + sigma * eps).requires_grad_(True)
    f = log_likelihood(model, z[:, None, :], x)[:, 0]
    (g,) = torch.autograd.grad(f.sum(), z)  # each draw's own gradient: the draws are independent
    f, g, e = f.detach().double(), g.double(), eps.double()
    reparam = torch.cat([g, g * e * sigma.double() / 2], -1)
    score_factor = torch.cat([e / sigma.double(), (e**2 - 1) / 2], -1)
    return f, reparam, score_factor


def gradient_variance(
    model, x, mean, logvar, generator: torch.Generator, ns=GRADIENT_SAMPLES, repeats: int = GRADIENT_REPEATS
) -> GradientVariance:
    """Reparameterised vs score-function gradients of one image's ELBO at q = N(mean, exp(logvar))."""
    ns = np.array(sorted({int(n) for n in ns}))
    d = mean.shape[-1]
    eps = torch.randn(repeats * int(ns[-1]), d, generator=generator)
    f, reparam, factor = per_draw_gradients(model, x, mean, logvar, eps)
    kl_grad = _kl_gradient(mean, logvar)
    shape = (repeats, int(ns[-1]), 2 * d)
    draws = {"reparameterised": reparam.reshape(shape), "score": (f[:, None] * factor).reshape(shape)}
    variance = {k: np.stack([_split(_variance(v[:, :s].mean(1)), d) for s in ns]) for k, v in draws.items()}
    fr, fac = f.reshape(repeats, -1), factor.reshape(shape)
    variance["score, baseline"] = np.stack([_split(_variance(_loo(fr[:, :s], fac[:, :s])), d) for s in ns])
    flat = {k: v.reshape(-1, 2 * d) for k, v in draws.items()}
    flat["score, baseline"] = _loo_draws(fr, fac)
    per_draw = {k: _split(_variance(v), d) for k, v in flat.items()}
    return GradientVariance(
        ns=ns,
        variance=variance,
        per_draw_variance=per_draw,
        ratio=per_draw["score"] / per_draw["reparameterised"],
        gradient={k: (v.mean(0) - kl_grad).numpy() for k, v in flat.items()},
        gradient_se={k: (v.std(0) / len(v) ** 0.5).numpy() for k, v in flat.items()},
    )


def _kl_gradient(mean, logvar) -> torch.Tensor:
    """∇ of the closed-form KL(q ‖ N(0, I)) with respect to (μ, log σ²): (μ, (σ² − 1)/2)."""
    m = mean.double().clone().requires_grad_(True)
    lv = logvar.double().clone().requires_grad_(True)
    return torch.cat(torch.autograd.grad(gaussian_kl(m, lv).sum(), [m, lv]))


def _variance(g: torch.Tensor) -> torch.Tensor:
    """Per-coordinate variance over the first axis [N, 2D] -> [2D]."""
    return g.var(0)


def _split(v: torch.Tensor, d: int) -> np.ndarray:
    """[2D] per-coordinate variances -> [2]: summed over μ's coordinates and over log σ²'s."""
    return np.array([float(v[:d].sum()), float(v[d:].sum())])


def _loo(f: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """The S-draw score estimate with a leave-one-out baseline, per repeat: f [R, S], factor [R, S, 2D]."""
    s = f.shape[1]
    if s < 2:
        return torch.full((f.shape[0], factor.shape[-1]), float("nan"), dtype=torch.float64)
    baseline = (f.sum(1, keepdim=True) - f) / (s - 1)
    return ((f - baseline)[..., None] * factor).mean(1)


def _loo_draws(f: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Per-draw baselined score gradients, the baseline from the rest of each repeat's draws."""
    baseline = (f.sum(1, keepdim=True) - f) / (f.shape[1] - 1)
    return ((f - baseline)[..., None] * factor).reshape(-1, factor.shape[-1])
