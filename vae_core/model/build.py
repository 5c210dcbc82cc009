"""A model from its config: the family member named by ModelConfig.arch."""

from __future__ import annotations

import torch

from .base import LatentVariableModel
from .config import ModelConfig
from .conv import ConvVAE
from .mlp import VAE

MODEL_CLASSES: dict[str, type[LatentVariableModel]] = {"mlp": VAE, "conv": ConvVAE}


def build_model(config: ModelConfig, generator: torch.Generator | None = None) -> LatentVariableModel:
    """The model `config` describes; its weights drawn from `generator` (else left to torch)."""
    return MODEL_CLASSES[config.arch](config, generator=generator)
