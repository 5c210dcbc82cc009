"""One model family, three kinds: VAE, plain autoencoder, KL-only (Kingma & Welling, 2013).

    vae  loss = -E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I))      (the negative ELBO, eq. 3)
         or, with objective="iwae", the importance-weighted bound of L samples (Burda et al. 2016)
    ae   loss = -log p(x | z = mean(x))      reconstruction only, deterministic code, no KL
    kl   loss = beta * KL(q(z|x) || N(0, I)) prior matching only

The KL-only model is the third panel of the classic comparison: its encoder sees the KL term
alone, so every code collapses onto the prior and says nothing about x. Its decoder is still
fitted (on codes detached from the encoder), so it shows what the best decoder can do with
codes that carry no information: the average digit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .config import ModelConfig, layer_sizes
from .losses import bernoulli_nll, gaussian_nll, log_normal_at_noise, log_standard_normal
from .posterior import Posterior

ACTIVATION_MODULES = {"elu": nn.ELU, "relu": nn.ReLU}  # the names ModelConfig accepts (config.ACTIVATIONS)


@dataclass
class LossTerms:
    loss: torch.Tensor  # scalar minimised by the optimiser (batch mean)
    recon: torch.Tensor  # [N] -E_q[log p(x|z)], nats
    kl: torch.Tensor  # [N] KL(q(z|x) || p(z)), nats (inf for the autoencoder)

    @property
    def neg_elbo(self) -> torch.Tensor:
        return self.recon + self.kl


def mlp(sizes: list[int], activation: str = "elu") -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ACTIVATION_MODULES[activation]())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """Gaussian encoder, Bernoulli or Gaussian decoder, N(0, I) prior; `kind` picks the loss."""

    def __init__(self, config: ModelConfig, generator: torch.Generator | None = None):
        super().__init__()
        self.config = config
        sizes = layer_sizes(config)  # the AE's encoder has no variance head
        self.encoder = mlp(sizes["encoder"], config.activation)
        self.decoder = mlp(sizes["decoder"], config.activation)
        if generator is not None:
            self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default Linear initialisation, drawn from `generator` instead of the global
        RNG, so that seeding one model never changes another session's randomness."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                bound = 1 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=generator)
                m.bias.uniform_(-bound, bound, generator=generator)

    def encode(self, x: torch.Tensor) -> Posterior:
        h = self.encoder(x.flatten(1))
        if self.config.kind == "ae":
            return Posterior.point_mass(h)
        mean, logvar = h.chunk(2, dim=-1)
        return Posterior(mean, logvar)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z [..., D] -> pre-sigmoid pixel values [..., C, H, W]."""
        return self.decoder(z).unflatten(-1, self.config.image_shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, D] -> images [N, C, H, W] in [0, 1] (the decoder's mean)."""
        return torch.sigmoid(self.decode_logits(z))

    def nll(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) per image, from decoder logits of any leading shape [..., C, H, W]."""
        lead = logits.shape[:-3]
        logits, xs = logits.reshape(-1, *x.shape[1:]), x.expand_as(logits).reshape(-1, *x.shape[1:])
        if self.config.likelihood == "bernoulli":
            out = bernoulli_nll(logits, xs)
        else:
            out = gaussian_nll(torch.sigmoid(logits), xs, self.config.sigma_dec)
        return out.reshape(lead)

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None, beta_scale: float = 1.0) -> LossTerms:
        """The training objective of this kind, with its ELBO terms per image.

        beta_scale multiplies beta for KL warm-up (Bowman et al. 2016; Sønderby et al. 2016).
        """
        cfg = self.config
        post = self.encode(x)
        kl = post.kl()
        if cfg.kind == "ae":
            recon = self.nll(self.decode_logits(post.mean), x)
            return LossTerms(recon.mean(), recon, kl)
        if cfg.objective == "iwae":
            return self._iwae_loss(post, x, generator, cfg.beta * beta_scale)
        z = post.sample(generator, n=cfg.mc_samples)  # [L, N, D]
        if cfg.kind == "kl":
            # Only the decoder learns from reconstruction; the encoder sees the KL alone.
            recon = self.nll(self.decode_logits(z.detach()), x).mean(0)
            return LossTerms(cfg.beta * beta_scale * kl.mean() + recon.mean(), recon, kl)
        recon = self.nll(self.decode_logits(z), x).mean(0)  # L-sample MC estimate (eq. 7)
        return LossTerms(recon.mean() + cfg.beta * beta_scale * kl.mean(), recon, kl)

    def _iwae_loss(self, post: Posterior, x: torch.Tensor, generator, kl_weight: float) -> LossTerms:
        """-log 1/L sum_l p(x|z_l) [p(z_l) / q(z_l|x)]^w, z_l ~ q(z|x): Burda et al. (2016), eq. 8,
        with the prior-to-posterior ratio weighted by w = beta x warm-up: w = 1 is the IWAE bound;
        w < 1 (a KL warm-up) is a heuristic and no bound. log q from the noise (exact at any logvar)."""
        z, eps = post.sample_with_noise(generator, n=self.config.mc_samples)  # [L, N, D]
        log_px = -self.nll(self.decode_logits(z), x).float()  # [L, N]
        # in float32 even under bf16 autocast: 8-bit mantissas would blur the importance weights
        log_ratio = log_standard_normal(z.float()) - log_normal_at_noise(eps.float(), post.logvar.float())
        bound = torch.logsumexp(log_px + kl_weight * log_ratio, dim=0) - math.log(self.config.mc_samples)
        return LossTerms(-bound.mean(), -log_px.mean(0), post.kl())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction through the posterior mean: [N, C, H, W] -> [N, C, H, W] in [0, 1]."""
        return self.decode(self.encode(x).mode())
