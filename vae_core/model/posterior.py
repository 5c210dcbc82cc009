"""The recognition model's output: a diagonal Gaussian q(z|x) = N(mean, diag exp(logvar)).

One class for all three kinds of model, after diffusers' DiagonalGaussianDistribution: the
autoencoder's posterior is the same object with zero variance (logvar = -inf), so every page
and metric treats the three kinds alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .losses import gaussian_kl


def is_point_mass(logvar: torch.Tensor) -> bool:
    """Whether posteriors are points (log-variance -inf everywhere): an autoencoder's codes."""
    return bool(torch.isneginf(logvar).all())


@dataclass
class Posterior:
    mean: torch.Tensor  # [N, D]
    logvar: torch.Tensor  # [N, D]; -inf for a deterministic (autoencoder) code

    @classmethod
    def point_mass(cls, mean: torch.Tensor) -> Posterior:
        return cls(mean, torch.full_like(mean, float("-inf")))

    @property
    def deterministic(self) -> bool:
        return is_point_mass(self.logvar)

    @property
    def std(self) -> torch.Tensor:
        return torch.exp(0.5 * self.logvar)

    def mode(self) -> torch.Tensor:
        return self.mean

    def sample(self, generator: torch.Generator | None = None, n: int | None = None) -> torch.Tensor:
        """Reparameterised draw z = mean + std * eps, eps ~ N(0, I) (Kingma & Welling, eq. 4).

        The randomness sits in eps only, so gradients flow to mean and logvar. With n, returns
        [n, N, D] (n samples per input), as the importance-weighted bound needs.
        """
        return self.sample_with_noise(generator, n)[0]

    def sample_with_noise(self, generator: torch.Generator | None = None, n: int | None = None):
        """(z, eps): the draw of `sample` and the standard-normal noise it was made from, from
        which log q(z|x) is computed exactly (losses.log_normal_at_noise)."""
        shape = self.mean.shape if n is None else (n, *self.mean.shape)
        eps = torch.randn(shape, generator=generator, dtype=self.mean.dtype, device=self.mean.device)
        if self.deterministic:
            return self.mean.expand(shape).clone(), eps
        return self.mean + self.std * eps, eps

    def kl_per_dim(self) -> torch.Tensor:
        """Closed-form KL to N(0, I) for each latent dimension: [N, D]."""
        return gaussian_kl(self.mean, self.logvar)

    def kl(self) -> torch.Tensor:
        """Closed-form KL(q(z|x) || N(0, I)) per input: [N]."""
        return self.kl_per_dim().sum(-1)

    def __getitem__(self, index) -> Posterior:
        return Posterior(self.mean[index], self.logvar[index])
