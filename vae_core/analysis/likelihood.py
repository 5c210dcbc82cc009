"""The log densities every ELBO tool of one image evaluates, in nats, and what each kind has.

    log p(x, z) = log p(x|z) + log p(z),  p(z) = N(0, I)    the integrand of log p(x) = log ∫ p(x, z) dz
    log q(z|x) with z = μ + σ ⊙ ε:  log N(ε; 0, I) − ½ Σ_j log σ_j²     (change of variables)

log q is computed from ε, never from (z − μ)² / σ², which is 0/0 once σ² underflows (issue 18).
The reasons a kind of model lacks a quantity live here once: the errors raised and the report's
`unavailable` entries quote them.
"""

from __future__ import annotations

import torch

from ..model.losses import log_standard_normal

PAIRS_PER_BLOCK = 20_000  # (latent point, image) pairs decoded at once: ~63 MB of 28x28 logits

NO_DENSITY = (
    "An autoencoder has no ELBO and no likelihood: its code is a point, not a distribution q(z|x), "
    "and it was trained without a prior p(z); what it has is a reconstruction and its -log p(x|z = code)."
)
NEEDS_2D = (
    "The exact posterior p(z|x) needs a 2-D latent: it is computed on a grid, and a grid of n points "
    "per axis costs n^D decoder calls (n = 40: 1,600 at D = 2, 2.8e25 at D = 16)."
)


def model_kind(model) -> str:
    """'vae', 'kl' or 'ae' (a model without a config is taken to be a VAE)."""
    return getattr(getattr(model, "config", None), "kind", "vae")


def latent_dim(model) -> int:
    return int(model.config.latent_dim)


def require_density(model) -> None:
    """ValueError for a model without p(x): the autoencoder."""
    if model_kind(model) == "ae":
        raise ValueError(NO_DENSITY)


def require_2d(model) -> None:
    """ValueError for a model whose posterior cannot be put on a grid (no density, or D > 2)."""
    require_density(model)
    d = latent_dim(model)
    if d != 2:
        raise ValueError(f"This model has a {d}-D latent. {NEEDS_2D}")


def as_batch(model, x: torch.Tensor) -> torch.Tensor:
    """Images as a float batch [B, C, H, W]: one image [C, H, W] gets its batch axis."""
    x = torch.as_tensor(x, dtype=torch.float32)
    shape = tuple(model.config.image_shape)
    if tuple(x.shape) == shape:
        x = x[None]
    if x.dim() != 4 or tuple(x.shape[1:]) != shape:
        raise ValueError(f"Images must be [N, {', '.join(map(str, shape))}] for this model, not {list(x.shape)}.")
    return x


def log_likelihood(model, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) for z [..., B, D] and images x [B, C, H, W]: [..., B]."""
    return -model.nll(model.decode_logits(z), x)


def log_joint(model, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x, z) = log p(x|z) + log p(z) for z [..., B, D], x [B, C, H, W]: [..., B]."""
    return log_likelihood(model, z, x) + log_standard_normal(z)


@torch.inference_mode()
def log_joint_blocked(model, z: torch.Tensor, x: torch.Tensor, pairs: int = PAIRS_PER_BLOCK) -> torch.Tensor:
    """log p(x, z) for many points z [G, B, D]: [G, B] in float64, decoded in blocks of `pairs`."""
    per = max(1, pairs // max(1, z.shape[1]))
    out = [log_joint(model, z[i : i + per].float(), x).double() for i in range(0, len(z), per)]
    return torch.cat(out)


def log_q_from_eps(eps: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log q(z|x) at z = μ + σ ⊙ ε: log N(ε; 0, I) − ½ Σ log σ² (exact, finite for any σ > 0)."""
    return log_standard_normal(eps) - 0.5 * logvar.sum(-1)


@torch.inference_mode()
def log_joint_shared(model, z: torch.Tensor, x: torch.Tensor, pairs: int = PAIRS_PER_BLOCK) -> torch.Tensor:
    """log p(x, z) for the same points z [G, D] and every image x [B, C, H, W]: [G, B] in float64.
    Each point is decoded once for all images (only the likelihood is per image)."""
    per = max(1, pairs // max(1, len(x)))
    out = []
    for i in range(0, len(z), per):
        zb = z[i : i + per].float()
        logits = model.decode_logits(zb)[:, None].expand(-1, len(x), *x.shape[1:])
        out.append((-model.nll(logits, x) + log_standard_normal(zb)[:, None]).double())
    return torch.cat(out)
