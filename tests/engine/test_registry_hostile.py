"""A models folder holding what a shared disk holds: links in loops and to devices, a FIFO and a
folder named like checkpoints, names with control characters or bytes that are not UTF-8, sweep
folders that are links or whose table is a folder. The scan lists each real file exactly once,
with text a page can send, never blocks on a FIFO or a device, and never raises."""

import os
import shutil

import torch

import vae_core
from vae_core.io import registry
from vae_core.model.config import ModelConfig
from vae_core.model.mlp import VAE


def test_a_hostile_models_folder_lists_each_file_once_and_never_raises(tmp_path):
    cfg = ModelConfig(latent_dim=2, hidden=(4,), image_shape=(1, 8, 8))
    good = vae_core.save_checkpoint(VAE(cfg, generator=torch.Generator().manual_seed(0)), tmp_path / "good.safetensors")
    os.symlink("loop.safetensors", tmp_path / "loop.safetensors")
    os.symlink("nowhere.safetensors", tmp_path / "dangling.safetensors")
    os.symlink("/dev/zero", tmp_path / "zero.safetensors")
    (tmp_path / "folder.safetensors").mkdir()
    os.mkfifo(tmp_path / "fifo.safetensors")  # opening it for reading would wait for a writer forever
    for name in (b"bad\xffname", b"new\nline", b"ctrl\x1b[31m", b"x" * 230):
        shutil.copy(good, os.fsdecode(bytes(tmp_path) + b"/" + name + b".safetensors"))
    (tmp_path / "sweep-a").mkdir()
    (tmp_path / "sweep-a" / "sweep.json").mkdir()
    shutil.copy(good, tmp_path / "sweep-a" / "hidden-by-its-table.safetensors")
    (tmp_path / "sweep-b").mkdir()
    (tmp_path / "sweep-b" / "sweep.json").write_text("not json")
    shutil.copy(good, tmp_path / "sweep-b" / "point.safetensors")
    os.symlink("..", tmp_path / "sweep-b" / "up.safetensors")
    os.symlink(".", tmp_path / "sweep-loop")

    entries = registry.scan(tmp_path)
    names = sorted(e.path.name for e in entries)
    assert names == sorted(["good.safetensors", "point.safetensors"] + [
        os.fsdecode(n + b".safetensors") for n in (b"bad\xffname", b"new\nline", b"ctrl\x1b[31m", b"x" * 230)
    ])  # fmt: skip
    for e in entries:
        for text in (e.label, e.description, e.name, e.error or ""):
            text.encode("utf-8")
            assert "\n" not in text and "\x1b" not in text
    bad = [e for e in entries if not e.ok]
    assert [e.path.name for e in bad] == [os.fsdecode(b"bad\xffname.safetensors")]
    assert "not valid UTF-8" in bad[0].error
    sweep = next(e for e in entries if e.path.name == "point.safetensors")
    assert sweep.source == "sweep" and sweep.ok
