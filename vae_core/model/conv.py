"""The convolutional family: stride-2 convolutions down to a vector, transposed convolutions back.

The design is the β-VAE's for 64x64 images (Higgins et al. 2017, "β-VAE: Learning Basic Visual
Concepts with a Constrained Variational Framework", table 1, the CelebA/chairs network; Burgess
et al. 2018, "Understanding disentangling in β-VAE", appendix A.1, the dSprites one):

    encoder  conv 4x4 stride 2 (32) -> 32 -> 64 -> 64 channels, 64 -> 32 -> 16 -> 8 -> 4 px,
             flatten, fully connected `hidden` (the papers: 256, 256), then 2D (mean, log-variance)
    decoder  the mirror image: fully connected, unflatten to 64x4x4, transposed conv 4x4 stride 2
             back to C x 64 x 64 logits

with ModelConfig.conv_channels = (32, 32, 64, 64) and `--hidden 256 256`. The same rule serves
every size (vae_core.model.config.conv_layers): the side halves while it is even and above 4, so
32 px uses the first three convolutions (to 4x4) and 28 px the first two (to 7x7).

Likelihood: Bernoulli on [0, 1] intensities for every channel (`--likelihood bernoulli`, the
default), as the β-VAE papers and most tutorials use it. On binary data (the `shapes` dataset)
it is the exact likelihood and the nats are a true -log p(x); on grey or colour photographs it
is the cross-entropy against the intensities, summed over the C*H*W values: a training loss
whose floor is the images' own intensity entropy (not 0), comparable between models on the same
data and size, not a density of continuous pixels. `--likelihood gaussian` (fixed σ_dec) gives a
density of continuous values instead, in nats that depend on σ_dec and the pixel count.
Everything else — the posterior, the three kinds, β, the loss — is the family's (vae_core.model.base).
"""

from __future__ import annotations

from .base import LatentVariableModel

__all__ = ["ConvVAE"]


class ConvVAE(LatentVariableModel):
    """The conv member: the image enters the first convolution as [N, C, H, W]."""

    arch = "conv"
    flatten_input = False
