"""The inference gap of one image, split in two (Cremer, Li & Duvenaud 2018, "Inference
Suboptimality in Variational Autoencoders", eq. 4-6):

    log p(x) − ELBO(q_enc)  =  [log p(x) − ELBO(q*)]  +  [ELBO(q*) − ELBO(q_enc)]
         total gap               approximation gap           amortisation gap

q* is the best Gaussian of the encoder's family (diagonal covariance) for this one image, found
by gradient ascent on ELBO(μ, log σ²) from the encoder's guess: what the encoder would output if
it had to serve only x. The approximation gap is the price of the family, the amortisation gap
the price of one network serving every image.

The objective: at D = 2 the ELBO of a Gaussian on a precomputed grid of log p(x, z) (no decoder
call per step, no noise: q* is the exact optimum up to the grid, found by L-BFGS); at D > 2 the
reparameterised Monte-Carlo ELBO with FIT_SAMPLES draws per step from a torch.Generator, by Adam
(Cremer et al.'s recipe). μ moves in units of the starting σ, so one step size suits every image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..model.losses import gaussian_kl, log_normal
from .likelihood import log_likelihood

FIT_STEPS = 300  # Adam steps at D > 2 ("a few hundred", Cremer et al. sec. 5); L-BFGS's bound at D = 2
FIT_LR = 0.05  # in units of the starting σ for μ, and of log σ² for log σ²
FIT_SAMPLES = 16  # draws of ε per step at D > 2
MIN_LOGVAR = -30.0  # keeps σ² from underflowing while the optimiser explores


@dataclass
class GaussianFit:
    """q*(z|x) = N(mean, diag exp(logvar)) and the objective along the way."""

    mean: np.ndarray  # [D]
    logvar: np.ndarray  # [D]
    trace: np.ndarray  # the objective (an ELBO or its estimate, nats) at each evaluation


def grid_elbo(mean, logvar, z: torch.Tensor, log_joint: torch.Tensor) -> torch.Tensor:
    """ELBO(q) = E_q[log p(x, z) − log q(z)] with q's weights on grid points z [G, 2] (normalised
    over the grid: a regular grid's cell area cancels), log_joint [G]: differentiable in q."""
    log_q = log_normal(z, mean, logvar)
    w = torch.softmax(log_q, 0)
    return (w * (log_joint - log_q)).sum()


def mc_elbo(model, x, mean, logvar, eps: torch.Tensor) -> torch.Tensor:
    """The reparameterised ELBO estimate with draws eps [L, D] (Kingma & Welling eq. 7: the
    L-sample mean of log p(x|z) minus the closed-form KL)."""
    z = mean + (0.5 * logvar).exp() * eps
    return log_likelihood(model, z[:, None, :], x).mean() - gaussian_kl(mean, logvar).sum()


def _whitened(mean0: torch.Tensor, logvar0: torch.Tensor):
    """Parameters (offset of μ in units of the starting σ, log σ²) and the map back to (μ, log σ²)."""
    scale = (0.5 * logvar0.double()).exp().clamp_min(1e-6)
    offset = torch.zeros_like(scale, requires_grad=True)
    logvar = logvar0.double().clone().requires_grad_(True)
    return [offset, logvar], lambda: (mean0.double() + scale * offset, logvar.clamp_min(MIN_LOGVAR))


def _result(params, trace) -> GaussianFit:
    mean, logvar = (t.detach().numpy() for t in params())
    return GaussianFit(mean, logvar, np.array(trace))


def fit_on_grid(z: torch.Tensor, log_joint: torch.Tensor, mean0, logvar0, steps: int = FIT_STEPS) -> GaussianFit:
    """q* at D = 2 from log p(x, z) on grid points z [G, 2]: no decoder calls and no noise, so a
    quasi-Newton method (L-BFGS with a strong-Wolfe line search) reaches the optimum in ~15
    evaluations where Adam needs ~150 steps; `steps` bounds the evaluations."""
    z, lj = z.double(), log_joint.double().flatten()
    leaves, params = _whitened(mean0, logvar0)
    opt = torch.optim.LBFGS(leaves, lr=1, max_iter=steps, max_eval=steps, tolerance_grad=1e-9,
                            tolerance_change=1e-12, line_search_fn="strong_wolfe")  # fmt: skip
    trace = []

    def closure():
        value = grid_elbo(*params(), z, lj)
        trace.append(float(value.detach()))
        grads = torch.autograd.grad(-value, leaves)
        for leaf, g in zip(leaves, grads, strict=True):
            leaf.grad = g
        return -value.detach()

    opt.step(closure)
    return _result(params, trace)


def fit_by_sampling(model, x, mean0, logvar0, generator: torch.Generator, steps: int = FIT_STEPS) -> GaussianFit:
    """q* at any D by Adam on the reparameterised ELBO, FIT_SAMPLES fresh draws per step from
    `generator` (Cremer et al.'s recipe); the trace is each step's noisy estimate."""
    d = mean0.shape[-1]

    leaves, params = _whitened(mean0, logvar0)
    opt = torch.optim.Adam(leaves, lr=FIT_LR)
    trace = []
    for _ in range(steps):
        eps = torch.randn(FIT_SAMPLES, d, generator=generator)
        mean, logvar = params()
        value = mc_elbo(model, x, mean.float(), logvar.float(), eps)
        trace.append(float(value.detach()))
        # autograd.grad, not backward(): nothing accumulates in the (shared, cached) model's .grad
        for leaf, g in zip(leaves, torch.autograd.grad(-value, leaves), strict=True):
            leaf.grad = g
        opt.step()
    return _result(params, trace)
