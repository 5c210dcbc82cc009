"""The model family's one implementation: three kinds (VAE, autoencoder, KL-only) on any network.

Kingma & Welling (2013), "Auto-Encoding Variational Bayes":
    vae  loss = -E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I))      (the negative ELBO, eq. 3)
         or, with objective="iwae", the importance-weighted bound of L samples (Burda et al. 2016)
    ae   loss = -log p(x | z = mean(x))      reconstruction only, deterministic code, no KL
    kl   loss = beta * KL(q(z|x) || N(0, I)) prior matching only

The KL-only model is the third panel of the classic comparison: its encoder sees the KL term
alone, so every code collapses onto the prior and says nothing about x. Its decoder is still
fitted (on codes detached from the encoder), so it shows what the best decoder can do with
codes that carry no information: the average image.

A family member (the MLP `VAE`, the convolutional `ConvVAE`) only says how its input enters the
encoder; the networks are built from vae_core.model.plan, and everything else — the posterior,
the likelihood, the loss of each kind — is written here once for all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .config import KERNEL, PADDING, STRIDE, ModelConfig
from .losses import bernoulli_nll, gaussian_nll, log_normal_at_noise, log_standard_normal
from .plan import network_plan
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


def build_network(layers: list[tuple], activation: str) -> nn.Sequential:
    """One module per plan entry, in order (so the plan's indices are the state dict's names)."""
    made: list[nn.Module] = []
    for layer in layers:
        kind, *args = layer
        if kind == "linear":
            made.append(nn.Linear(*args))
        elif kind == "conv":
            made.append(nn.Conv2d(*args, KERNEL, STRIDE, PADDING))
        elif kind == "deconv":
            made.append(nn.ConvTranspose2d(*args, KERNEL, STRIDE, PADDING))
        elif kind == "act":
            made.append(ACTIVATION_MODULES[activation]())
        elif kind == "flatten":
            made.append(nn.Flatten(1))
        else:  # unflatten
            made.append(nn.Unflatten(1, tuple(args)))
    return nn.Sequential(*made)


class LatentVariableModel(nn.Module):
    """Gaussian encoder, Bernoulli or Gaussian decoder, N(0, I) prior; `kind` picks the loss."""

    arch = ""  # the ModelConfig.arch this class builds
    flatten_input = True  # the MLP reads pixels as one vector; the conv family reads [C, H, W]

    def __init__(self, config: ModelConfig, generator: torch.Generator | None = None):
        super().__init__()
        if config.arch != self.arch:
            raise ValueError(f"{type(self).__name__} builds arch {self.arch!r}, the config says {config.arch!r}.")
        self.config = config
        plan = network_plan(config)  # the AE's encoder has no variance head
        self.encoder = build_network(plan["encoder"], config.activation)
        self.decoder = build_network(plan["decoder"], config.activation)
        if generator is not None:
            self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default initialisation (uniform in ±1/sqrt(fan_in), the fan-in as torch
        computes it), drawn from `generator` instead of the global RNG, so that seeding one model
        never changes another session's randomness."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                bound = 1 / math.sqrt(fan_in)
                m.weight.uniform_(-bound, bound, generator=generator)
                m.bias.uniform_(-bound, bound, generator=generator)

    def encode(self, x: torch.Tensor) -> Posterior:
        """x [N, C, H, W] in [0, 1] -> q(z|x)."""
        h = self.encoder(x.flatten(1) if self.flatten_input else x)
        if self.config.kind == "ae":
            return Posterior.point_mass(h)
        mean, logvar = h.chunk(2, dim=-1)
        return Posterior(mean, logvar)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z [..., D] -> pre-sigmoid pixel values [..., C, H, W]."""
        lead = z.shape[:-1]
        out = self.decoder(z.reshape(-1, z.shape[-1]))
        return out.reshape(*lead, *self.config.image_shape)

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
