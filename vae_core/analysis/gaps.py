"""The inference gap of one image, split in two (Cremer, Li & Duvenaud 2018, "Inference
Suboptimality in Variational Autoencoders", eq. 4-6):

    log p(x) − ELBO(q_enc)  =  [log p(x) − ELBO(q*)]  +  [ELBO(q*) − ELBO(q_enc)]
         total gap               approximation gap           amortisation gap

q* is the best Gaussian of the encoder's family (diagonal covariance) for this one image, found
by gradient ascent on ELBO(μ, log σ²) from the encoder's guess: what the encoder would output if
it had to serve only x. The approximation gap is the price of the family, the amortisation gap
the price of one network serving every image.

The objective: at D = 2 the ELBO of a Gaussian from log p(x, z) precomputed on the posterior's
grid and interpolated (no decoder call per step, no noise: q* is the optimum up to the
interpolation, found by L-BFGS; its ELBO is then computed exactly); at D > 2 the
reparameterised Monte-Carlo ELBO with FIT_SAMPLES draws per step from a torch.Generator, by Adam
(Cremer et al.'s recipe). μ moves in units of the starting σ, so one step size suits every image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..model.losses import LOG_2PI, gaussian_kl
from .likelihood import log_likelihood
from .posterior_grid import gaussian_nodes

FIT_STEPS = 200  # Adam steps at D > 2 (vae-z16: within 0.02 nats of 600 steps); L-BFGS's bound at D = 2
FIT_LR = 0.05  # Adam's step: in units of the starting σ for μ, and of log σ² for log σ²
ADAM_BETAS = (0.9, 0.999)  # Kingma & Ba's defaults
FIT_SAMPLES = 16  # draws of ε per step at D > 2
MIN_LOGVAR = -30.0  # keeps σ² from underflowing while the optimiser explores
OUTSIDE_NATS = 50.0  # log p(x, z) off the grid: this far below the grid's lowest value


@dataclass
class GaussianFit:
    """q*(z|x) = N(mean, diag exp(logvar)) and the objective along the way."""

    mean: np.ndarray  # [D]
    logvar: np.ndarray  # [D]
    trace: np.ndarray  # the objective (an ELBO or its estimate, nats) at each evaluation; last: at the result
    start: int = 0  # the index of the start it came from (fit_on_grid)


class GridInterpolant:
    """log p(x, z) anywhere, from its values on a regular grid (rows z2, columns z1), by bicubic
    interpolation; beyond the grid, the grid's lowest value minus OUTSIDE_NATS, so that a q
    spreading off the grid (where the posterior has no mass) only loses ELBO."""

    def __init__(self, z1: torch.Tensor, z2: torch.Tensor, log_joint: torch.Tensor):
        h = torch.stack([z1[1] - z1[0], z2[1] - z2[0]]).double()
        self.lo = torch.stack([z1[0], z2[0]]).double() - h
        self.hi = torch.stack([z1[-1], z2[-1]]).double() + h
        floor = float(log_joint.min()) - OUTSIDE_NATS
        self.image = F.pad(log_joint.double(), (1, 1, 1, 1), value=floor)[None, None]

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """z [K, 2] -> log p(x, z) [K], differentiable in z."""
        g = 2 * (z - self.lo) / (self.hi - self.lo) - 1  # grid_sample's x is z1 (columns), y is z2 (rows)
        out = F.grid_sample(self.image, g[None, None], mode="bicubic", padding_mode="border", align_corners=True)
        return out[0, 0, 0]


def interpolated_elbo(mean, logvar, log_joint_at: GridInterpolant) -> torch.Tensor:
    """ELBO(q) = E_q[log p(x, z)] + H(q): the expectation on q-aligned trapezoid nodes, the entropy
    in closed form (so a q wider than the grid cannot gain entropy for free)."""
    u, log_w = gaussian_nodes()
    z = mean + (0.5 * logvar).exp() * u
    entropy = 0.5 * (LOG_2PI + 1 + logvar).sum()
    return (torch.softmax(log_w, 0) * log_joint_at(z)).sum() + entropy


def mc_elbo(model, x, mean, logvar, eps: torch.Tensor) -> torch.Tensor:
    """The reparameterised ELBO estimate with draws eps [L, D] (Kingma & Welling eq. 7: the
    L-sample mean of log p(x|z) minus the closed-form KL)."""
    z = mean + (0.5 * logvar).exp() * eps
    return log_likelihood(model, z[:, None, :], x).mean() - gaussian_kl(mean, logvar).sum()


def _unwhiten(mean0: torch.Tensor, logvar0: torch.Tensor):
    """θ = (offset of μ in units of the starting σ, log σ²) -> (μ, log σ²): one step size suits
    every image whatever its σ."""
    scale = (0.5 * logvar0.double()).exp().clamp_min(1e-6)
    d = len(scale)
    return lambda theta: (mean0.double() + scale * theta[:d], theta[d:].clamp_min(MIN_LOGVAR))


def fit_on_grid(z1, z2, log_joint: torch.Tensor, starts, steps: int = FIT_STEPS) -> GaussianFit:
    """q* at D = 2 from log p(x, z) [n2, n1] on the regular grid z1 × z2, the best of the fits from
    each (mean, logvar) in `starts`: the ELBO over Gaussians has a local optimum per posterior mode
    and the encoder's guess can sit in the wrong one or between two (vae-z2's validation digits 11
    and 247), so the caller adds starts from the posterior itself. No decoder calls and no noise,
    so a quasi-Newton method (L-BFGS) reaches each optimum in ~15-50 evaluations where Adam needs
    ~150 steps; `steps` bounds the evaluations."""
    lj = GridInterpolant(z1, z2, log_joint)
    fits = [_lbfgs(lj, torch.as_tensor(m).double(), torch.as_tensor(lv).double(), steps) for m, lv in starts]
    best = max(range(len(fits)), key=lambda i: fits[i].trace[-1])
    fits[best].start = best
    return fits[best]


def laplace_start(z1, z2, log_joint: torch.Tensor):
    """(mean, logvar) at the grid's highest point, with the mean-field Laplace variances there:
    σ_j² = −1 / ∂²log p(x, z)/∂z_j², from second differences on the grid (the optimum of a
    diagonal Gaussian for a Gaussian posterior; MacKay 2003, ch. 27). A corner or a flat
    direction falls back to one grid cell."""
    row, col = divmod(int(log_joint.argmax()), log_joint.shape[1])
    lj = log_joint.double()
    h = torch.stack([z1[1] - z1[0], z2[1] - z2[0]]).double()
    r, c = min(max(row, 1), lj.shape[0] - 2), min(max(col, 1), lj.shape[1] - 2)
    curv = torch.stack([lj[r, c + 1] - 2 * lj[r, c] + lj[r, c - 1], lj[r + 1, c] - 2 * lj[r, c] + lj[r - 1, c]]) / h**2
    var = torch.where(curv < 0, -1 / curv.clamp(max=-1e-12), h**2)
    return torch.stack([z1[col], z2[row]]).double(), var.clamp_min(1e-12).log()


def _lbfgs(lj: GridInterpolant, mean0, logvar0, steps: int) -> GaussianFit:
    """L-BFGS-B (scipy; torch.optim would import torch._dynamo: seconds on a first call) on −ELBO,
    log σ² bounded to [MIN_LOGVAR, log of the grid's squared extent]."""
    from scipy.optimize import minimize

    to_q = _unwhiten(torch.as_tensor(mean0), torch.as_tensor(logvar0))
    d = len(mean0)
    trace = []

    def negative(theta):
        t = torch.from_numpy(theta).requires_grad_(True)
        value = interpolated_elbo(*to_q(t), lj)
        trace.append(float(value.detach()))
        (grad,) = torch.autograd.grad(-value, t)
        return -float(value.detach()), grad.numpy()

    widest = float(2 * torch.log(lj.hi - lj.lo).max())
    theta0 = torch.cat([torch.zeros(d, dtype=torch.float64), torch.as_tensor(logvar0).double()]).clamp(max=widest)
    bounds = [(None, None)] * d + [(MIN_LOGVAR, widest)] * d
    res = minimize(negative, theta0.numpy(), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": steps, "maxfun": steps, "ftol": 1e-13, "gtol": 1e-9})  # fmt: skip
    mean, logvar = (t.numpy() for t in to_q(torch.from_numpy(res.x)))
    return GaussianFit(mean, logvar, np.array([*trace, -float(res.fun)]))


def fit_by_sampling(model, x, mean0, logvar0, generator: torch.Generator, steps: int = FIT_STEPS) -> GaussianFit:
    """q* at any D by Adam (Kingma & Ba 2015, algorithm 1; written out: torch.optim would import
    torch._dynamo) on the reparameterised ELBO, FIT_SAMPLES fresh draws per step from
    `generator` (Cremer et al.'s recipe); the trace is each step's noisy estimate."""
    to_q = _unwhiten(mean0, logvar0)
    d = mean0.shape[-1]
    theta = torch.cat([torch.zeros(d, dtype=torch.float64), logvar0.double()])
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    b1, b2 = ADAM_BETAS
    trace = []
    for step in range(1, steps + 1):
        t = theta.clone().requires_grad_(True)
        mean, logvar = to_q(t)
        eps = torch.randn(FIT_SAMPLES, d, generator=generator)
        value = mc_elbo(model, x, mean.float(), logvar.float(), eps)
        trace.append(float(value.detach()))
        # autograd.grad, not backward(): nothing accumulates in the (shared, cached) model's .grad
        (g,) = torch.autograd.grad(value, t)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
        theta = theta + FIT_LR * (m / (1 - b1**step)) / ((v / (1 - b2**step)).sqrt() + 1e-8)
    mean, logvar = to_q(theta)
    return GaussianFit(mean.numpy(), logvar.numpy(), np.array(trace))
