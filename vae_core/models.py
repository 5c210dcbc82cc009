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
import numbers
from dataclasses import asdict, dataclass

import numpy as np
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
        problems = [p for p in self._problems() if p]
        if problems:
            raise ValueError("Invalid model settings: " + "; ".join(problems) + ".")
        self.hidden = tuple(int(h) for h in self.hidden)
        self.image_shape = tuple(int(s) for s in self.image_shape)
        self.latent_dim, self.mc_samples = int(self.latent_dim), int(self.mc_samples)
        self.beta, self.sigma_dec = float(self.beta), float(self.sigma_dec)

    def _problems(self) -> list[str | None]:
        """Every field checked by type and range *before* anything is built from it: a checkpoint's
        header is untrusted, and hidden=[1]*20000 or latent_dim=1e30 must cost microseconds."""
        return [
            _choice("kind", self.kind, KINDS),
            _choice("likelihood", self.likelihood, LIKELIHOODS),
            _choice("activation", self.activation, tuple(ACTIVATIONS)),
            _whole("latent size", self.latent_dim, 1, MAX_LATENT_DIM),
            _whole("mc_samples", self.mc_samples, 1, MAX_MC_SAMPLES),
            _real("beta", self.beta, 0.0, MAX_BETA),
            _real("sigma_dec", self.sigma_dec, MIN_SIGMA_DEC, MAX_SIGMA_DEC),
            _widths("hidden", self.hidden, MAX_HIDDEN_LAYERS, MAX_WIDTH),
            _image_shape(self.image_shape),
        ]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        if not isinstance(d, dict):
            raise ValueError(f"model settings must be a mapping, not {type(d).__name__}")
        unknown = [str(k) for k in d if k not in cls.__dataclass_fields__]
        if unknown:
            raise ValueError(f"Unknown model settings: {', '.join(_show(k) for k in sorted(unknown)[:5])}.")
        return cls(**d)


# Bounds on every field: generous (the recipe is 784-512-256-D with D up to a few hundred, on
# 28x28 or 8x8 images) but finite, so an untrusted checkpoint header cannot ask for absurd work.
MAX_LATENT_DIM = 1024  # D
MAX_HIDDEN_LAYERS = 16  # hidden layers per MLP (the recipe has 2)
MAX_WIDTH = 8192  # units per hidden layer (the recipe's widest is 512)
MAX_CHANNELS = 4  # image channels (MNIST-like data has 1)
MAX_SIDE = 256  # image height and width in pixels (28 and 8 in practice)
MAX_MC_SAMPLES = 1000  # L; the paper uses 1
MAX_BETA = 1e4  # the KL weight; beta-VAEs use up to a few hundred
MIN_SIGMA_DEC, MAX_SIGMA_DEC = 1e-4, 100.0  # the gaussian decoder's std, in [0, 1] pixel units


def _show(v, n: int = 40) -> str:
    """A value for a message, never a megabyte of it."""
    r = repr(v)
    return r if len(r) <= n else r[: n - 1] + "…"


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def _choice(name: str, v, options: tuple) -> str | None:
    if isinstance(v, str) and v in options:
        return None
    return f"{name} must be one of {', '.join(options)}, not {_show(v)}"


def _whole(name: str, v, lo: int, hi: int) -> str | None:
    if _is_int(v) and lo <= v <= hi:
        return None
    return f"{name} must be a whole number from {lo} to {hi:,}, not {_show(v)}"


def _real(name: str, v, lo: float, hi: float) -> str | None:
    if isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v) and lo <= v <= hi:
        return None
    return f"{name} must be a finite number from {lo:g} to {hi:g}, not {_show(v)}"


def _widths(name: str, v, max_len: int, hi: int) -> str | None:
    if not isinstance(v, (list, tuple)) or len(v) > max_len:
        return f"{name} must be a list of at most {max_len} layer widths, not {_show(v)}"
    for h in v:
        if not (_is_int(h) and 1 <= h <= hi):
            return f"{name} layer widths must be whole numbers from 1 to {hi:,}, not {_show(h)}"
    return None


def _image_shape(v) -> str | None:
    ok = isinstance(v, (list, tuple)) and len(v) == 3 and all(_is_int(s) for s in v)
    if ok and 1 <= v[0] <= MAX_CHANNELS and all(1 <= s <= MAX_SIDE for s in v[1:]):
        return None
    return (
        f"image_shape must be (channels, height, width) with 1 to {MAX_CHANNELS} channels and sides "
        f"of 1 to {MAX_SIDE} pixels, not {_show(v)}"
    )


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
