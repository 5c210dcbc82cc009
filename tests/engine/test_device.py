"""Device and precision choice: auto picks what is here, an absent device is one clear error,
bf16 only where the hardware has it, and what was used is recorded in the checkpoint."""

import pytest
import torch

import vae_core
from vae_core.data import load_dataset
from vae_core.model.config import ModelConfig
from vae_core.runs.run import build_meta
from vae_core.training import device as dev
from vae_core.training.config import TrainConfig
from vae_core.training.trainer import train_model


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)


def test_auto_is_the_cpu_without_a_gpu_and_absent_devices_are_refused(no_gpu):
    assert dev.resolve_device("auto") == torch.device("cpu")
    assert dev.resolve_device("cpu") == torch.device("cpu")
    for name, message in [("cuda", "no CUDA GPU"), ("cuda:1", "no CUDA GPU"), ("mps", "no Apple GPU"),
                          ("tpu", "Unknown device"), ("cpu:0", "Unknown device"), ("", "Unknown device")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            dev.resolve_device(name)


def test_auto_prefers_cuda_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert dev.resolve_device("auto") == torch.device("cuda")
    assert dev.resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ValueError, match="only 2 CUDA"):
        dev.resolve_device("cuda:2")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert {"avx512_bf16", "avx512f"} <= dev.cpu_flags(info)
    assert dev.cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize("flags,expected", [({"avx512_bf16"}, "bf16"), ({"amx_bf16"}, "bf16"), ({"avx2"}, "fp32")])
def test_auto_precision_on_a_cpu_follows_its_bf16_instructions(monkeypatch, flags, expected):
    monkeypatch.setattr(dev, "cpu_flags", lambda: frozenset(flags))
    cpu = torch.device("cpu")
    assert dev.resolve_precision("auto", cpu) == expected
    assert dev.resolve_precision("fp32", cpu) == "fp32" and dev.resolve_precision("bf16", cpu) == "bf16"


@pytest.mark.parametrize("supported,expected", [(True, "bf16"), (False, "fp32")])
def test_auto_precision_on_cuda_asks_the_driver(monkeypatch, supported, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: supported)
    assert dev.resolve_precision("auto", torch.device("cuda")) == expected


def test_mps_never_gets_bf16_and_unknown_precisions_are_refused():
    assert dev.resolve_precision("auto", torch.device("mps")) == "fp32"
    with pytest.raises(ValueError, match="not supported on mps"):
        dev.resolve_precision("bf16", torch.device("mps"))
    with pytest.raises(ValueError, match="Unknown precision"):
        dev.resolve_precision("fp16", torch.device("cpu"))


def test_the_checkpoint_records_the_precision_and_device_used_and_loads_anywhere(tmp_path, no_gpu):
    train, val = load_dataset("digits", "train").subset(256), load_dataset("digits", "val")
    mcfg = ModelConfig(latent_dim=2, hidden=(16,), image_shape=(1, 8, 8))
    tcfg = TrainConfig(epochs=1, precision="auto", device="auto", film_frames=0)
    model, trainer = train_model(mcfg, tcfg, train, val)
    meta = build_meta(mcfg, tcfg, "digits", trainer)
    assert meta["train_config"]["precision"] == dev.resolve_precision("auto", torch.device("cpu"))
    assert meta["device"] == "cpu" and meta["world_size"] == 1
    vae_core.save_checkpoint(model, tmp_path / "m.safetensors", meta)
    loaded, meta2 = vae_core.load_checkpoint(tmp_path / "m.safetensors", device="cpu")
    assert meta2["train_config"]["precision"] in ("fp32", "bf16")
    assert all(p.device.type == "cpu" and p.dtype == torch.float32 for p in loaded.parameters())


def test_one_process_on_the_cpu_gives_the_same_model_as_before_devices_existed():
    """The device-aware loop draws the same numbers on the CPU as the old CPU-only loop did:
    the shipped checkpoints stay reproducible (a generator made with device="cpu" is the default one)."""
    a = torch.Generator(device=torch.device("cpu")).manual_seed(7)
    b = torch.Generator().manual_seed(7)
    assert torch.equal(torch.randperm(100, generator=a, device="cpu"), torch.randperm(100, generator=b))
    assert torch.equal(torch.randn(5, generator=a, device="cpu"), torch.randn(5, generator=b))
