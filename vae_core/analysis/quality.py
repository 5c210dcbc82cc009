"""Sample quality: what a sampler draws, judged by a classifier trained on real data.

After Salimans et al. (2016) and Ghosh et al. (2020): decode codes, let a classifier trained on
real data (vae_core.model.classifier) label them. A sample it cannot name with confidence >= 0.5
does not look like any class; the entropy of the predicted-class histogram measures mode
coverage (log K: every class equally often; 0: one class only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .thresholds import LOW_CONFIDENCE


@dataclass
class SampleQuality:
    n: int  # samples judged
    low_confidence: float  # share whose top class probability is below LOW_CONFIDENCE
    mean_confidence: float  # mean top class probability
    class_entropy: float  # entropy (nats) of the predicted-class histogram: mode coverage
    max_entropy: float  # log K: the entropy when every class is drawn equally often
    class_shares: list[float]  # share of samples predicted as each class
    accuracy: float | None = None  # share predicted as their true label, when labels were given


def judge(probs: torch.Tensor, labels: torch.Tensor | None = None) -> SampleQuality:
    """Summarise classifier probabilities [N, K] of decoded samples."""
    if probs.ndim != 2 or len(probs) == 0:
        raise ValueError(f"Expected class probabilities [N, K] for at least one sample, not {list(probs.shape)}.")
    conf, pred = probs.max(1)
    shares = torch.bincount(pred, minlength=probs.shape[1]).double() / len(pred)
    nz = shares[shares > 0]
    return SampleQuality(
        n=len(probs),
        low_confidence=float((conf < LOW_CONFIDENCE).double().mean()),
        mean_confidence=float(conf.double().mean()),
        class_entropy=float(-(nz * nz.log()).sum()) + 0.0,  # + 0.0: one class gives 0.0, not -0.0
        max_entropy=math.log(probs.shape[1]),
        class_shares=shares.tolist(),
        accuracy=None if labels is None else float((pred == labels).double().mean()),
    )


@torch.inference_mode()
def sample_quality(model, classifier, z: torch.Tensor, labels=None, batch_size: int = 2000) -> SampleQuality:
    """Decode codes z [N, D] with `model` and judge the images with `classifier`."""
    want, draws = tuple(classifier.image_shape), tuple(model.config.image_shape)
    if want != draws:
        raise ValueError(f"The classifier judges {want} images, the model draws {draws}.")
    if z.ndim != 2 or z.shape[1] != model.config.latent_dim:
        raise ValueError(f"Codes must be [N, {model.config.latent_dim}], not {list(z.shape)}.")
    probs = torch.cat(
        [classifier.predict_proba(model.decode(z[i : i + batch_size].float())) for i in range(0, len(z), batch_size)]
    )
    return judge(probs, labels)
