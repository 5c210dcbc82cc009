"""How the two Monte-Carlo estimators of one image behave as they get more samples.

- The ELBO with L samples (Kingma & Welling 2013, eq. 7, the seeds' estimator):
      ELBO_L = 1/L Σ_l log p(x|z_l) − KL(q ‖ p(z)),   z_l = μ + σ ⊙ ε_l.
  Unbiased for every L: its mean stays on the ELBO, its spread shrinks like 1/√L.
- The importance-weighted bound with K samples (Burda et al. 2016, eq. 8):
      IW_K = log 1/K Σ_k p(x, z_k) / q(z_k|x).
  IW_1 is an ELBO estimate; E[IW_K] rises with K towards log p(x) (Burda et al. theorem 1).

Each repeat draws one pool of N_max samples and reads every L (or K) off its first L draws, so
a curve costs repeats × N_max decoder calls, not repeats × Σ L. All the pools together give the
best estimates at hand: the ELBO from every draw (with its standard error), and the IW bound
with K = repeats × N_max, the stand-in for log p(x) where there is no exact value (D > 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..model.losses import gaussian_kl, log_standard_normal
from .likelihood import log_likelihood, log_q_from_eps

SAMPLE_COUNTS = (1, 2, 5, 10, 20, 50, 100, 200, 500)  # L and K on the curves
REPEATS = 16  # independent estimates per L or K: the spread


@dataclass
class EstimatorCurves:
    """Per repeat (rows) and sample count (columns), in nats; summaries as properties."""

    ns: np.ndarray  # [M] L or K
    elbo: np.ndarray  # [R, M] ELBO_L of each repeat
    iw: np.ndarray  # [R, M] IW_K of each repeat
    pooled_elbo: float  # the ELBO from all R × N_max draws
    pooled_elbo_se: float  # its standard error
    pooled_iw: float  # IW bound with K = R × N_max: the best lower bound on log p(x) at hand
    pooled_k: int  # that K

    @property
    def elbo_mean(self) -> np.ndarray:
        return self.elbo.mean(0)

    @property
    def elbo_std(self) -> np.ndarray:
        return self.elbo.std(0, ddof=1)

    @property
    def iw_mean(self) -> np.ndarray:
        return self.iw.mean(0)

    @property
    def iw_std(self) -> np.ndarray:
        return self.iw.std(0, ddof=1)


@torch.inference_mode()
def draw_log_weights(model, x, mean, logvar, eps: torch.Tensor):
    """For draws eps [..., D] of one image x [1, C, H, W]: log p(x|z) and log w = log p(x, z) −
    log q(z|x) (both [...], float64), with z = μ + σ ⊙ ε and log q from ε."""
    flat = eps.reshape(-1, eps.shape[-1])
    z = mean + (0.5 * logvar).exp() * flat
    lik = torch.cat([log_likelihood(model, z[i : i + 4096, None, :], x)[:, 0] for i in range(0, len(z), 4096)])
    log_w = lik + log_standard_normal(z) - log_q_from_eps(flat, logvar)
    return lik.double().reshape(eps.shape[:-1]), log_w.double().reshape(eps.shape[:-1])


def estimator_curves(
    model, x, mean, logvar, generator: torch.Generator, ns=SAMPLE_COUNTS, repeats: int = REPEATS
) -> EstimatorCurves:
    """ELBO_L and IW_K of one image x [1, C, H, W] under q = N(mean, diag exp(logvar)) [D]."""
    eps = curve_draws(generator, ns, repeats, mean.shape[-1])
    lik, log_w = draw_log_weights(model, x, mean, logvar, eps)
    return curves_from_draws(lik, log_w, float(gaussian_kl(mean.double(), logvar.double()).sum()), ns)


def curve_draws(generator: torch.Generator, ns, repeats: int, d: int) -> torch.Tensor:
    """ε [repeats, max(ns), d]: one pool per repeat."""
    return torch.randn(repeats, max(int(n) for n in ns), d, generator=generator)


def curves_from_draws(lik: torch.Tensor, log_w: torch.Tensor, kl: float, ns) -> EstimatorCurves:
    """The curves from pools of log p(x|z) and log w [R, N_max] and the closed-form KL."""
    ns = np.array(sorted({int(n) for n in ns}))
    idx = torch.as_tensor(ns - 1)
    counts = torch.arange(1, lik.shape[1] + 1, dtype=torch.float64)
    elbo = (lik.cumsum(1) / counts)[:, idx] - kl
    iw = (torch.logcumsumexp(log_w, 1) - counts.log())[:, idx]
    all_lik = lik.flatten()
    return EstimatorCurves(
        ns=ns,
        elbo=elbo.numpy(),
        iw=iw.numpy(),
        pooled_elbo=float(all_lik.mean()) - kl,
        pooled_elbo_se=float(all_lik.std() / math.sqrt(len(all_lik))),
        pooled_iw=float(torch.logsumexp(log_w.flatten(), 0) - math.log(log_w.numel())),
        pooled_k=int(log_w.numel()),
    )
