"""How typical an image is for a model, measured: its −ELBO against the model's own held-out data.

A model assigns a bound on −log p(x) to any image of the right size, including images of a
kind it never saw (a garment under a digit model). Such an image reconstructs badly and its
code sits where the prior is thin, so its −ELBO lands far above the −ELBOs of held-out images
from the training distribution. The pages say so with a measured percentile, not a guess:
the share of held-out training-distribution images whose −ELBO is at most this image's.

A large −ELBO is evidence against "like the training data"; a typical one is not proof of the
opposite (likelihoods of deep generative models can rank some other data sets *higher*,
Nalisnick et al. 2019, "Do deep generative models know what they don't know?"), which is why
the pages report the figure and its percentile rather than a verdict.

An autoencoder has no ELBO (its code is a point): its figure is the reconstruction term
−log p(x | z = μ) alone, named as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .thresholds import UNTYPICAL_SHARE

SAMPLES = 8  # z draws per image: a single image's −ELBO from one draw moves by several nats


@dataclass
class Typicality:
    value: float  # this image's figure, nats
    share_below: float  # share of the reference images whose figure is <= value (its percentile / 100)
    reference_median: float  # median figure of the reference images, nats
    reference_high: float  # the reference's UNTYPICAL_SHARE quantile, nats
    measure: str  # "−ELBO" or "reconstruction −log p(x|z=μ)" (an autoencoder)
    n_reference: int  # images in the reference

    @property
    def untypical(self) -> bool:
        """Above the reference's UNTYPICAL_SHARE quantile: unlike the data the model was trained on."""
        return self.share_below > UNTYPICAL_SHARE


POINT_MEASURE, ELBO_MEASURE = "reconstruction −log p(x|z=μ)", "−ELBO"


@torch.inference_mode()
def fit_scores(
    model, x: torch.Tensor, samples: int = SAMPLES, seed: int = 0, batch_size: int = 500
) -> tuple[torch.Tensor, str]:
    """Per-image figure [N] in nats and its name: the −ELBO, i.e. the reconstruction −log p(x|z)
    averaged over `samples` draws z ~ q(z|x) plus the closed-form KL (Kingma & Welling 2013,
    eq. 3); for a point code (an autoencoder), the reconstruction at z = μ alone."""
    gen = torch.Generator().manual_seed(seed)
    out, name = [], ELBO_MEASURE
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        post = model.encode(xb)
        if post.deterministic:
            out.append(model.nll(model.decode_logits(post.mean), xb))
            name = POINT_MEASURE
            continue
        z = post.sample(gen, n=samples)  # [S, B, D]
        recon = model.nll(model.decode_logits(z.reshape(-1, z.shape[-1])), xb.repeat(samples, 1, 1, 1))
        out.append(recon.reshape(samples, len(xb)).mean(0) + post.kl())
    return torch.cat(out).double(), name


def typicality(model, x: torch.Tensor, reference: torch.Tensor, seed: int = 0) -> list[Typicality]:
    """Each image of x [N, C, H, W] against reference figures [M] (fit_scores of held-out images
    from the model's training distribution, computed with the same `samples`)."""
    ref = torch.as_tensor(reference, dtype=torch.float64)
    ref = ref[torch.isfinite(ref)]
    if len(ref) < 10:
        raise ValueError(f"Need at least 10 finite reference figures, not {len(ref)}.")
    values, name = fit_scores(model, x, seed=seed)
    median, high = (float(v) for v in torch.quantile(ref, torch.tensor([0.5, UNTYPICAL_SHARE], dtype=torch.float64)))
    return [
        Typicality(float(v), float((ref <= v).double().mean()), median, high, name, len(ref)) for v in values.tolist()
    ]


def share_untypical(values: torch.Tensor, reference: torch.Tensor) -> float:
    """Share of `values` above the reference's UNTYPICAL_SHARE quantile (a data set under a model)."""
    ref = torch.as_tensor(reference, dtype=torch.float64)
    high = torch.quantile(ref[torch.isfinite(ref)], UNTYPICAL_SHARE)
    return float((torch.as_tensor(values, dtype=torch.float64) > high).double().mean())
