"""The training recipe: TrainConfig's defaults, hard bounds, and the memory check before a build.

TrainConfig's defaults *are* the recipe of the shipped MNIST models (with ModelConfig's
784-512-256-D network): the CLI's flags and the Train page's fields are generated from these
fields, so a default lives here and nowhere else. Measured on mnist5k (README, "Results"): more
Adam steps matter more than anything else on 4,500 digits, and a 1-pixel random shift removes
most of the train/validation gap.

Every field is bounded and strictly typed: the Train page, the CLI and the API share these
bounds, and a value outside them is one ValueError naming the field and the bound (not a
tens-of-GB allocation or a job that holds the only worker for a geological age). The model's
own settings (latent size, widths) are bounded by ModelConfig; `check_fits` covers what no
single field can: the memory the whole model and batch need, against what the device has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from numbers import Integral, Real

from ..model.config import setting
from ..model.plan import activation_count, parameter_count
from .device import DEVICES, PRECISIONS

SCHEDULES = ("constant", "cosine")
BINARIZE = ("none", "dynamic")
# (low, high) inclusive, for the numeric fields. Generous for real work, small enough that the
# worst accepted value still runs: 10,000 epochs of mnist5k is a day on one core.
BOUNDS = {
    "epochs": (1, 10_000),
    "batch_size": (1, 65_536),
    "lr": (1e-8, 10.0),
    "seed": (0, 2**32 - 1),
    "warmup_epochs": (0.0, 10_000.0),
    "augment_shift": (0, 8),
    "film_frames": (0, 1_000),
    "film_points": (0, 10_000),
}
CHOICES = {"schedule": SCHEDULES, "precision": PRECISIONS, "device": DEVICES, "binarize": BINARIZE}  # text fields
INT_FIELDS = ("epochs", "batch_size", "seed", "augment_shift", "film_frames", "film_points")


@dataclass
class TrainConfig:
    epochs: int = setting(150, "passes over the training split")
    batch_size: int = setting(64, "images per Adam step (the global batch under torchrun)")
    lr: float = setting(2e-3, "Adam learning rate (Kingma & Ba, 2015)")
    seed: int = setting(0, "seeds initialisation, batch order and the reparameterisation noise")
    warmup_epochs: float = setting(0.0, "KL weight ramps linearly 0 -> beta over this many epochs")
    augment_shift: int = setting(1, "random translation of up to this many pixels (fights overfitting)")
    binarize: str = setting(
        "none",
        "none (grey levels), or dynamic: a fresh Bernoulli draw of every training image each epoch "
        "(the published likelihood protocol; vae_core.data.binarize)",
    )
    schedule: str = setting("cosine", "learning rate: constant, or cosine decay to 0 (Loshchilov & Hutter, 2017)")
    precision: str = setting("auto", "auto (bf16 where native and as good, else fp32), fp32, or bf16 autocast")
    device: str = setting("auto", "auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")
    film_frames: int = setting(150, "latent-code frames kept for the training film (0: no film)")
    film_points: int = setting(500, "validation images in each film frame")

    def __post_init__(self):
        problems = [p for f in fields(self) if (p := _problem(f.name, getattr(self, f.name)))]
        if problems:
            raise ValueError("Invalid training settings: " + "; ".join(problems) + ".")


def _problem(name: str, value) -> str | None:
    """What is wrong with one field's value, in words that name the bound; None if nothing."""
    label = name.replace("_", " ")
    if name in BOUNDS:
        lo, hi = BOUNDS[name]
        if name in INT_FIELDS:
            ok = isinstance(value, Integral) and not isinstance(value, bool) and lo <= value <= hi
            kind = "a whole number"
        else:
            ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and lo <= value <= hi
            kind = "a number"
        return None if ok else f"{label} must be {kind} from {lo:,} to {hi:,}, not {value!r}"
    choices = CHOICES[name]
    if isinstance(value, str) and (value in choices or (name == "device" and _is_cuda_index(value))):
        return None
    return f"{label} must be one of {', '.join(choices)}, not {value!r}"


def _is_cuda_index(value: str) -> bool:
    head, _, index = value.partition(":")
    return head == "cuda" and index.isdigit() and len(index) <= 3


def training_bytes(model_config, train_config: TrainConfig) -> int:
    """A generous estimate of the memory one training step needs, in bytes (float32).

    Weights, gradients and Adam's two moments (4 copies of the parameters), plus the
    activations kept for the backward pass: every layer's output (feature maps for the conv
    family, vae_core.model.plan.activation_count) for each of the batch x L samples, counted
    twice (pre- and post-activation) and once more for its gradient.
    """
    activations = train_config.batch_size * model_config.mc_samples * activation_count(model_config) * 3
    return 4 * (4 * parameter_count(model_config) + activations)


def check_fits(model_config, train_config: TrainConfig, available: int | None) -> None:
    """ValueError when the model and batch cannot fit in `available` bytes (None: unknown, pass)."""
    need = training_bytes(model_config, train_config)
    if available is not None and need > 0.8 * available:
        raise ValueError(
            f"This model and batch need about {_gb(need)} of memory to train; {_gb(available)} is available. "
            "Choose a smaller latent size, narrower hidden layers, a smaller batch or fewer MC samples."
        )


def _gb(n: int) -> str:
    return f"{n / 2**30:,.1f} GB" if n >= 2**28 else f"{n / 2**20:,.0f} MB"
