"""Every training setting is bounded and strictly typed, with the bound in the message, and the
memory a model needs is checked before anything is allocated."""

import numpy as np
import pytest
import torch

from vae_core.model.config import ModelConfig
from vae_core.model.mlp import VAE
from vae_core.training.config import BOUNDS, TrainConfig, check_fits, parameter_count, training_bytes


@pytest.mark.parametrize(
    "field,value",
    [
        ("epochs", 0), ("epochs", 10**12), ("epochs", 2.5), ("epochs", True), ("epochs", "3"),
        ("batch_size", 0), ("batch_size", 10**7), ("batch_size", 64.0),
        ("lr", 0.0), ("lr", -1e-3), ("lr", float("nan")), ("lr", float("inf")), ("lr", 1e12), ("lr", "1e-3"),
        ("seed", -1), ("seed", 2**64), ("seed", 1.5),
        ("warmup_epochs", float("nan")), ("warmup_epochs", -1.0), ("warmup_epochs", float("inf")),
        ("warmup_epochs", 1e9),
        ("augment_shift", -1), ("augment_shift", 10**6),
        ("film_frames", -1), ("film_frames", 10**6), ("film_points", 10**9),
        ("schedule", "linear"), ("precision", "fp8"), ("precision", None), ("device", "gpu"), ("device", "cuda:x"),
    ],
)  # fmt: skip
def test_each_field_out_of_bounds_is_one_message_naming_it(field, value):
    with pytest.raises(ValueError) as e:
        TrainConfig(**{field: value})
    message = str(e.value)
    assert message.startswith("Invalid training settings: ") and field.replace("_", " ") in message
    if field in BOUNDS:
        lo, hi = BOUNDS[field]
        assert f"{lo:,}" in message and f"{hi:,}" in message  # the bound is in the message


def test_values_at_the_bounds_and_friendly_types_are_accepted():
    for field, (lo, hi) in BOUNDS.items():
        TrainConfig(**{field: lo})
        TrainConfig(**{field: hi})
    TrainConfig(lr=1, warmup_epochs=2, epochs=np.int64(3), device="cuda:0", precision="bf16")  # ints for floats


def test_several_problems_are_reported_together():
    with pytest.raises(ValueError, match="epochs .*; .*learning|epochs .*; lr"):
        TrainConfig(epochs=0, lr=-1.0)


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(),
        ModelConfig(kind="ae", latent_dim=3, hidden=(7, 5, 3)),
        ModelConfig(kind="kl", latent_dim=2, hidden=(16,), image_shape=(1, 8, 8)),
    ],
)
def test_parameter_count_is_the_models_own(cfg):
    model = VAE(cfg, generator=torch.Generator().manual_seed(0))
    assert parameter_count(cfg) == sum(p.numel() for p in model.parameters())


def test_a_model_too_big_for_memory_is_refused_before_allocation():
    huge = ModelConfig(hidden=(8192,) * 16, mc_samples=1000)  # each field within its bound; together...
    tcfg = TrainConfig(batch_size=65_536)
    assert training_bytes(huge, tcfg) > 200 * 2**30
    with pytest.raises(ValueError, match=r"need about [\d,.]+ GB of memory to train; 16.0 GB is available"):
        check_fits(huge, tcfg, 16 * 2**30)
    check_fits(ModelConfig(), TrainConfig(), 16 * 2**30)  # the recipe fits easily
    check_fits(huge, tcfg, None)  # unknown memory (MPS): no claim either way
