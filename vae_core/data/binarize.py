"""Binarised data: the protocol the published likelihoods on MNIST-like data are measured on.

Published NLL figures on "dynamically binarised" MNIST and Fashion-MNIST (Salakhutdinov & Murray
2008; Burda et al. 2016; Tomczak & Welling 2018; Norouzi et al. 2020) model binary images: every
grey level x in [0, 1] is read as the probability of a black pixel, b ~ Bernoulli(x).
- Training: a fresh draw of every image each epoch ("dynamic" binarisation, TrainConfig.binarize).
- Evaluation: the test images binarised ONCE with a fixed seed, so every model is scored on the
  same bits. Ours: `torch.bernoulli` of the split's images in file order, with a CPU
  torch.Generator seeded with EVAL_BINARIZE_SEED (`binarized_once`); `digest` fingerprints the
  result, so a report can say which bits it measured.

The cross-entropy of a model against the grey levels themselves (what the rest of this project
reports) is a different quantity: by Jensen's inequality it is an upper bound on the expected
binarised NLL of the same model, so the two must never be compared as if they were one figure.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import torch

EVAL_BINARIZE_SEED = 0  # the fixed draw of an evaluation split (README: "the published protocol")
LIKELIHOOD_BINARIZED = "binarised NLL"
LIKELIHOOD_GREY = "grey-level cross-entropy (an upper bound on the expected binarised NLL)"


def likelihood_label(binarized: bool) -> str:
    """What a likelihood figure measured, in the words every CLI and table uses."""
    return LIKELIHOOD_BINARIZED if binarized else LIKELIHOOD_GREY


def binarize(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One Bernoulli draw per pixel: 1 with probability equal to the grey level (float 0/1)."""
    return torch.bernoulli(images, generator=generator)


def binarized_once(dataset, seed: int = EVAL_BINARIZE_SEED):
    """The dataset with its images binarised by the fixed evaluation draw (drawn on the CPU, so the
    bits are the same on every machine and device); labels and order unchanged."""
    images = binarize(dataset.images.detach().cpu().float(), torch.Generator().manual_seed(seed))
    return replace(dataset, images=images.to(dataset.images.device))


def digest(images: torch.Tensor) -> str:
    """SHA-256 of a binary image tensor's bits (one byte per pixel, row-major): which bits were scored."""
    return hashlib.sha256(images.detach().cpu().to(torch.uint8).numpy().tobytes()).hexdigest()
