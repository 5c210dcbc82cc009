"""The arrays shipped for the first page (ui/services/first_map.py) are what the engine computes."""

import numpy as np
import torch

import vae_core
from ui import settings
from ui.livemap.publish import to_uint8_images
from ui.services import first_map
from vae_core.model.estimators import encode_all


def test_the_shipped_codes_and_digits_are_the_engines_own():
    path = settings.shipped_dir() / "vae-z2.safetensors"
    shipped = first_map.codes(path, "mnist5k")
    assert shipped is not None, "run python -m scripts.ship_first_map after changing vae-z2 or the encoder"
    model, _ = vae_core.load_checkpoint(path)
    data = vae_core.load_dataset("mnist5k", "train")
    with torch.inference_mode():
        mean, logvar = encode_all(model, data.images)
    assert np.array_equal(shipped[0], mean.numpy()) and np.array_equal(shipped[1], logvar.numpy())
    images, labels, classes = first_map.dataset("mnist5k")
    assert np.array_equal(images, to_uint8_images(data.images)) and np.array_equal(labels, data.labels.numpy())
    assert classes == tuple(data.classes)


def test_codes_are_only_found_for_the_checkpoint_they_were_computed_from(tmp_path):
    copy = tmp_path / "vae-z2.safetensors"
    copy.write_bytes((settings.shipped_dir() / "vae-z2.safetensors").read_bytes())
    assert first_map.codes(copy, "mnist5k") is not None  # the same content, anywhere
    blob = bytearray(copy.read_bytes())
    blob[-1] ^= 1  # one bit of one weight: another model
    copy.write_bytes(bytes(blob))
    assert first_map.codes(copy, "mnist5k") is None
    assert first_map.codes(copy, "fashion") is None


def test_a_damaged_shipped_file_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    (tmp_path / "first_map").mkdir()
    (tmp_path / "first_map" / "mnist5k-train.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    assert first_map.dataset("mnist5k") is None
    np.savez(tmp_path / "first_map" / "mnist5k-train.npz", images=np.zeros((3, 2, 2), np.float32), labels=np.zeros(3))
    assert first_map.dataset("mnist5k") is None  # float images, missing class names: not ours
