"""Monte-Carlo estimators of a model's ELBO and likelihood, per image, in nats.

- ELBO terms: reconstruction -E_q[log p(x|z)] with one reparameterised sample, and the KL in
  closed form; -ELBO = recon + KL (Kingma & Welling 2013, eq. 3 and appendix B).
- Importance-weighted NLL with K samples (Burda et al. 2016, eq. 8):
      log p(x) >= log 1/K sum_k p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x),
  tighter as K grows; K = 1 is the ELBO. Batched over images and over k so memory stays flat.
  log q(z_k|x) is computed from the noise eps_k that drew z_k, exact for any log-variance; an
  estimate that still comes out NaN or infinite for a model with a density is an error
  (NonFiniteEstimate), never a silent gap in a table (only the autoencoder has no density).

They belong to the model family (the trainer validates with them, the analysis reports them),
so they live beside it and import nothing above it.
"""

from __future__ import annotations

import math

import torch

from .losses import log_normal_at_noise, log_standard_normal

# Stamped on stored evaluations: 2 = log q(z|x) from eps (round three). Version 1 divided (z - mu)^2
# by sigma^2, which rounding biases once sigma * eps falls below float32's spacing near mu, and
# which is 0/0 = NaN below log-variances of about -100; evaluations without the stamp are re-measured.
IW_ESTIMATOR = 2


class NonFiniteEstimate(ValueError):
    """An estimator gave NaN or an infinity for a model that has a density."""


@torch.inference_mode()
def encode_all(model, x: torch.Tensor, batch_size: int = 1000):
    """Posterior means and log-variances of a whole tensor of images, in batches."""
    means, logvars = [], []
    for i in range(0, len(x), batch_size):
        post = model.encode(x[i : i + batch_size])
        means.append(post.mean)
        logvars.append(post.logvar)
    return torch.cat(means), torch.cat(logvars)


@torch.inference_mode()
def elbo_per_image(model, x: torch.Tensor, seed: int = 0, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstruction -log p(x|z) and KL per image ([N] each), one reparameterised sample each."""
    gen = torch.Generator(device=x.device).manual_seed(seed)
    recon, kl = [], []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        post = model.encode(xb)
        z = post.sample(gen)
        recon.append(model.nll(model.decode_logits(z), xb))
        kl.append(post.kl())
    return torch.cat(recon), torch.cat(kl)


def elbo_terms(model, x: torch.Tensor, seed: int = 0, batch_size: int = 1000) -> dict:
    """Mean reconstruction, KL and negative ELBO per image (one reparameterised sample each)."""
    recon, kl = elbo_per_image(model, x, seed, batch_size)
    r, k = recon.double().mean().item(), kl.double().mean().item()
    return {"recon": r, "kl": k, "neg_elbo": r + k}


@torch.inference_mode()
def iw_nll_per_image(model, x: torch.Tensor, k: int, seed: int = 0, chunk: int = 20_000, progress=None):
    """-log p(x) estimated with k importance samples, per image [N].

    The k samples are processed `chunk` (image x sample) pairs at a time with a running
    logsumexp, so peak memory does not grow with k. Infinite for the autoencoder, which has
    no density. `progress(done, total)` is called after each block of images.
    """
    gen = torch.Generator(device=x.device).manual_seed(seed)
    out = torch.empty(len(x))
    imgs_per_block = max(1, min(len(x), chunk // k))
    for i in range(0, len(x), imgs_per_block):
        xb = x[i : i + imgs_per_block]
        post = model.encode(xb)
        if post.deterministic:
            out[i : i + len(xb)] = float("inf")
            continue
        acc = torch.full((len(xb),), float("-inf"), device=xb.device)
        per_step = max(1, chunk // len(xb))
        for j in range(0, k, per_step):
            z, eps = post.sample_with_noise(gen, n=min(per_step, k - j))  # [s, B, D]
            log_w = -model.nll(model.decode_logits(z), xb) + log_standard_normal(z)
            log_w = log_w - log_normal_at_noise(eps, post.logvar)
            acc = torch.logaddexp(acc, torch.logsumexp(log_w, dim=0))
        out[i : i + len(xb)] = -(acc - math.log(k))
        _check_finite(out[i : i + len(xb)], i, k)
        if progress:
            progress(min(i + len(xb), len(x)), len(x))
    return out


def _check_finite(nll: torch.Tensor, offset: int, k: int) -> None:
    bad = (~torch.isfinite(nll)).nonzero().flatten()
    if len(bad):
        raise NonFiniteEstimate(
            f"The IW-NLL (K={k}) is {nll[bad[0]].item()} for image {offset + int(bad[0])} "
            f"({len(bad)} of this block's {len(nll)}): the model's likelihood or posterior is outside "
            "float range there. This is an error in the model or the estimator, not a missing value."
        )
