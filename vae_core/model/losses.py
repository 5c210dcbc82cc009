"""The terms of the evidence lower bound, per image, in nats.

Kingma & Welling (2013), "Auto-Encoding Variational Bayes":
    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))            (eq. 3)
with the KL in closed form for a diagonal Gaussian q and p = N(0, I)   (Appendix B):
    -KL = 1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2).
Every function here returns *negative* log-likelihoods (positive numbers), summed over
pixels or latent dimensions, one value per image.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, 1)) per latent dimension: [N, D] -> [N, D].

    A point mass (logvar = -inf, the autoencoder's posterior) has infinite KL, which is the
    honest answer: an AE code carries unbounded information about x.
    """
    return 0.5 * (mean.pow(2) + logvar.exp() - logvar - 1.0)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) for a Bernoulli decoder on [0, 1] intensities, summed per image.

    The cross-entropy is used on grey values as well as on binary ones, as in the paper's
    MNIST experiments and every reference implementation; computed from logits so that it
    stays finite where the sigmoid saturates.
    """
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return bce.flatten(1).sum(1)


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """-log N(x; mean, sigma^2 I) per image: ||x - mean||^2 / (2 sigma^2) + P/2 log(2 pi sigma^2).

    With sigma fixed the first term is the L2 loss scaled by 1/(2 sigma^2), the constant keeps
    the figure a real negative log-likelihood comparable across sigma values.
    """
    sq = (x - mean).pow(2).flatten(1).sum(1)
    n_pixels = x[0].numel()
    return sq / (2 * sigma**2) + 0.5 * n_pixels * (LOG_2PI + 2 * math.log(sigma))


def log_normal_at_noise(eps: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, diag exp(logvar)) at z = mean + exp(logvar / 2) * eps, summed over the last
    dimension: -1/2 * sum_j (log 2 pi + logvar_j + eps_j^2).

    Written in eps, not as (z - mean)^2 / exp(logvar): that quotient is 0/0 = NaN in float32
    once logvar < about -87 (exp underflows; z - mean rounds to 0), which a near-deterministic
    posterior (beta = 0) reaches; in eps the density stays exact for any finite logvar.
    """
    return -0.5 * (LOG_2PI + logvar + eps.pow(2)).sum(-1)


def log_normal(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, diag exp(logvar)) at any z (a grid of codes, not draws), summed over the last
    dimension. For draws from q use log_normal_at_noise: this quotient is 0/0 in float32 once
    logvar < about -87; the ELBO page's grid calls it in float64."""
    return -0.5 * (LOG_2PI + logvar + (z - mean).pow(2) / logvar.exp()).sum(-1)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I), summed over the last dimension."""
    return -0.5 * (LOG_2PI + z.pow(2)).sum(-1)
