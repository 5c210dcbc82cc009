"""The conv family: shapes from the plan, every kind trained on a tiny folder at each size, saved, loaded, probed."""

import json

import pytest
import torch
from image_folders import class_folder
from safetensors.torch import load_file, save_file
from support import ROOT

import vae_core
from vae_core.io.header import CheckpointError, expected_shapes, read_header
from vae_core.model.build import build_model
from vae_core.model.config import ModelConfig, conv_layers
from vae_core.model.plan import activation_count, parameter_count
from vae_core.runs.run import RunSpec, execute
from vae_core.training.config import TrainConfig, training_bytes

TINY = dict(latent_dim=3, hidden=(16,), conv_channels=(4, 4, 8, 8))


@pytest.mark.parametrize("side, layers", [(64, 4), (32, 3), (28, 2), (8, 1), (7, 0)])
@pytest.mark.parametrize("kind", ["vae", "ae", "kl"])
def test_the_plan_is_the_modules(side, layers, kind):
    cfg = ModelConfig(kind=kind, arch="conv", image_shape=(3, side, side), **TINY)
    assert len(conv_layers(cfg)) == layers  # halve while even and above 4
    with torch.device("meta"):
        model = build_model(cfg)
    assert expected_shapes(cfg) == {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert parameter_count(cfg) == sum(p.numel() for p in model.parameters())


def test_the_memory_estimate_counts_every_feature_map():
    """activation_count is at least what the forward pass really produces per image (hooks count it)."""
    cfg = ModelConfig(arch="conv", image_shape=(3, 64, 64), **TINY)
    model = build_model(cfg, torch.Generator().manual_seed(0))
    seen = []
    for m in model.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            m.register_forward_hook(lambda mod, inp, out: seen.append(out[0].numel()))
    model.decode(model.encode(torch.rand(1, 3, 64, 64)).mean)
    assert activation_count(cfg) >= sum(seen) + 3 * 64 * 64  # every layer's output and the input
    batch = TrainConfig().batch_size
    assert training_bytes(cfg, TrainConfig()) >= 4 * batch * (sum(seen) + 4 * parameter_count(cfg) / batch)


def test_old_checkpoints_have_no_arch_and_load_as_mlps():
    path = ROOT / "checkpoints" / "vae-z2.safetensors"
    assert '"arch"' not in read_header(path)["__metadata__"]["meta"]
    model, _ = vae_core.load_checkpoint(path)
    assert model.config.arch == "mlp" and type(model).__name__ == "VAE"


@pytest.mark.parametrize(
    "bad, words",
    [
        (dict(arch="resnet"), "arch must be one of mlp, conv"),
        (dict(conv_channels=[4] * 9), "at most 8 layer widths"),
        (dict(conv_channels=[5000]), "from 1 to 1,024"),
    ],
)
def test_hostile_conv_settings_are_refused_before_building(tmp_path, bad, words):
    model = build_model(ModelConfig(arch="conv", image_shape=(1, 28, 28), **TINY), torch.Generator().manual_seed(0))
    path = vae_core.save_checkpoint(model, tmp_path / "m.safetensors")
    meta = read_header(path)["__metadata__"]
    inner = json.loads(meta["meta"])
    inner["model_config"].update(bad)
    save_file(load_file(path), path, metadata={**meta, "meta": json.dumps(inner)})
    with pytest.raises(CheckpointError, match=words):
        vae_core.load_checkpoint(path)


def test_a_header_whose_weights_do_not_match_its_conv_layout_is_refused(tmp_path):
    model = build_model(ModelConfig(arch="conv", image_shape=(1, 32, 32), **TINY), torch.Generator().manual_seed(0))
    path = vae_core.save_checkpoint(model, tmp_path / "m.safetensors")
    tensors = load_file(path)
    tensors["encoder.0.weight"] = torch.zeros(4, 1, 3, 3)  # a 3x3 kernel where the config implies 4x4
    save_file(tensors, path, metadata=read_header(path)["__metadata__"])
    with pytest.raises(CheckpointError, match="do not match its own description"):
        vae_core.load_checkpoint(path)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("conv")
    colour = class_folder(root / "colour", n=6, w=70, h=64)
    return {"colour": colour, "grey": class_folder(root / "grey", n=6, grey=True)}


@pytest.mark.parametrize("side", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("kind", ["vae", "ae", "kl"])
def test_each_kind_trains_saves_loads_and_probes_at_each_size(folders, tmp_path, monkeypatch, side, channels, kind):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path.parent / "conv-cache"))  # shared by the cases
    cfg = ModelConfig(kind=kind, arch="conv", **TINY)
    tcfg = TrainConfig(epochs=1, batch_size=4, augment_shift=0, film_frames=2, film_points=4)
    data = f"folder:{folders['colour' if channels == 3 else 'grey']}"
    out = tmp_path / "m.safetensors"
    run = execute(RunSpec(cfg, tcfg, data, out, image_size=side, channels=channels))
    assert run.model_config.image_shape == (channels, side, side) and len(run.trainer.history) == 1
    model, meta = vae_core.load_checkpoint(out)
    assert type(model).__name__ == "ConvVAE" and meta["dataset"] == data
    x = run.val_data.images[:]
    post = model.encode(x)
    assert post.mean.shape == (len(x), 3) and post.deterministic == (kind == "ae")
    x_hat = model.decode(post.mean)
    assert x_hat.shape == x.shape and torch.isfinite(x_hat).all() and 0 <= x_hat.min() and x_hat.max() <= 1
    terms = model.loss(x)
    assert torch.isfinite(terms.recon).all() and terms.recon.shape == (len(x),)
    with torch.inference_mode():
        assert torch.allclose(model(x), run.model.eval()(x), atol=1e-5)  # the file holds the trained weights


def test_torchrun_trains_a_conv_model(tmp_path):
    """Two gloo processes, each its slice of every batch; rank 0 alone writes a ConvVAE."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    args = ["-m", "vae_core.train", "--arch", "conv", "--dataset", "digits", "--latent-dim", "2", "--hidden", "16",
            "--conv-channels", "8", "--epochs", "2", "--batch-size", "32", "--film-frames", "0",
            "--out", str(tmp_path / "c.safetensors")]  # fmt: skip
    r = subprocess.run([*cmd, *args], cwd=ROOT, env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                       timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    model, meta = vae_core.load_checkpoint(tmp_path / "c.safetensors")
    assert type(model).__name__ == "ConvVAE" and meta["world_size"] == 2 and os.listdir(tmp_path) == ["c.safetensors"]
