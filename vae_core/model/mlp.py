"""The fully connected family (Kingma & Welling 2013, appendix C): pixels -> hidden -> q(z|x), and back.

The three kinds (vae / ae / kl) and their losses are the family's, written once in
vae_core.model.base; this member reads the image as one vector of C*H*W pixels.
"""

from __future__ import annotations

from .base import ACTIVATION_MODULES, LatentVariableModel, LossTerms

__all__ = ["ACTIVATION_MODULES", "LossTerms", "VAE"]


class VAE(LatentVariableModel):
    """The MLP member: Linear layers of ModelConfig.hidden widths, the input flattened."""

    arch = "mlp"
    flatten_input = True
