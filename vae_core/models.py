"""One model family, three kinds: VAE, plain autoencoder, KL-only (Kingma & Welling, 2013).

    vae  loss = -E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I))      (the negative ELBO, eq. 3)
    ae   loss = -log p(x | z = mean(x))      reconstruction only, deterministic code, no KL
    kl   loss = beta * KL(q(z|x) || N(0, I)) prior matching only

The KL-only model is the third panel of the classic comparison: its encoder sees the KL term
alone, so every code collapses onto the prior and says nothing about x. Its decoder is still
fitted (on codes detached from the encoder), so it shows what the best decoder can do with
codes that carry no information: the average digit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .losses import bernoulli_nll, gaussian_nll
from .posterior import Posterior

KINDS = ("vae", "ae", "kl")
LIKELIHOODS = ("bernoulli", "gaussian")
ACTIVATIONS = {"elu": nn.ELU, "relu": nn.ReLU}


@dataclass
class ModelConfig:
    kind: str = "vae"  # vae | ae | kl (see the module docstring)
    latent_dim: int = 16  # D, the size of z
    hidden: tuple[int, ...] = (512, 256)  # MLP widths, encoder order; the decoder mirrors them
    beta: float = 1.0  # KL weight (Higgins et al. 2017); 1 is the true ELBO
    likelihood: str = "bernoulli"  # p(x|z): bernoulli (cross-entropy) or gaussian (L2)
    sigma_dec: float = 0.1  # fixed std of the gaussian decoder, in pixel units
    mc_samples: int = 1  # L, samples of z per image in the training estimate (paper: L=1)
    image_shape: tuple[int, int, int] = (1, 28, 28)  # C, H, W of the data
    activation: str = "elu"  # hidden non-linearity: elu (smooth; ~3 nats better than relu here) or relu

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        self.image_shape = tuple(int(s) for s in self.image_shape)
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.likelihood not in LIKELIHOODS:
            problems.append(f"likelihood must be one of {', '.join(LIKELIHOODS)}")
        if int(self.latent_dim) < 1:
            problems.append(f"latent size must be at least 1, not {self.latent_dim}")
        if any(h < 1 for h in self.hidden):
            problems.append("hidden layer sizes must be positive")
        if not (self.beta >= 0 and math.isfinite(self.beta)):
            problems.append(f"beta must be a finite number >= 0, not {self.beta}")
        if not self.sigma_dec > 0:
            problems.append("sigma_dec must be positive")
        if int(self.mc_samples) < 1:
            problems.append("mc_samples must be at least 1")
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            problems.append("image_shape must be (channels, height, width)")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}")
        if problems:
            raise ValueError("Invalid model settings: " + "; ".join(problems) + ".")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"Unknown model settings: {', '.join(sorted(unknown))}.")
        return cls(**d)


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
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """Gaussian encoder, Bernoulli or Gaussian decoder, N(0, I) prior; `kind` picks the loss."""

    def __init__(self, config: ModelConfig, generator: torch.Generator | None = None):
        super().__init__()
        self.config = config
        n_pixels = math.prod(config.image_shape)
        d = config.latent_dim
        out = d if config.kind == "ae" else 2 * d  # the AE has no variance head
        self.encoder = mlp([n_pixels, *config.hidden, out], config.activation)
        self.decoder = mlp([d, *reversed(config.hidden), n_pixels], config.activation)
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
        z = post.sample(generator, n=cfg.mc_samples)  # [L, N, D]
        if cfg.kind == "kl":
            # Only the decoder learns from reconstruction; the encoder sees the KL alone.
            recon = self.nll(self.decode_logits(z.detach()), x).mean(0)
            return LossTerms(cfg.beta * beta_scale * kl.mean() + recon.mean(), recon, kl)
        recon = self.nll(self.decode_logits(z), x).mean(0)  # L-sample MC estimate (eq. 7)
        return LossTerms(recon.mean() + cfg.beta * beta_scale * kl.mean(), recon, kl)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction through the posterior mean: [N, C, H, W] -> [N, C, H, W] in [0, 1]."""
        return self.decode(self.encode(x).mode())
