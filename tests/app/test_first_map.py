"""The arrays shipped for the first page (ui/services/first_map.py) are what the engine computes."""

import numpy as np
import pytest
import torch

import vae_core
from ui import settings
from ui.livemap.publish import to_uint8_images
from ui.services import first_map
from vae_core.data import shapes
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


def test_the_shapes_models_ship_their_codes_of_every_training_sprite():
    """The two shapes models' maps ship (663,552 codes each, float16 as the app's code cache keeps
    big maps), and they are the engine's own codes: checked on a fixed random 256 of them."""
    data = vae_core.load_dataset("shapes", "train")
    idx = np.sort(np.random.default_rng(0).choice(len(data), 256, replace=False))
    for stem in ("shapes-vae-z10", "shapes-bvae4-z10"):
        path = settings.shipped_dir() / f"{stem}.safetensors"
        shipped = first_map.codes(path, "shapes")
        assert shipped is not None, f"run python -m scripts.ship_first_map --model {stem} --data shapes"
        assert shipped[0].shape == (len(data), 10) == (663_552, 10)
        model, _ = vae_core.load_checkpoint(path)
        with torch.inference_mode():
            mean, logvar = encode_all(model, data.images[torch.from_numpy(idx)])
        for got, want in ((shipped[0][idx], mean.numpy()), (shipped[1][idx], logvar.numpy())):
            assert np.allclose(got, want, rtol=2e-3, atol=2e-3), np.abs(got - want).max()  # float16: 3 digits
    assert first_map.dataset("shapes") is None  # drawn again by the generator, never shipped as images
    rows = first_map.train_index("shapes", shapes.N_IMAGES)  # which of them: torch's split, shipped
    assert rows is not None and np.array_equal(rows, data.images.index)


def test_a_damaged_or_foreign_index_file_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    out = tmp_path / "first_map"
    out.mkdir()
    first_map.write_index(out, "shapes", [0, 5, 9], 10)
    assert first_map.train_index("shapes", 10).tolist() == [0, 5, 9]
    assert first_map.train_index("shapes", 11) is None  # made for another generator size
    for bad in ([-1], [3, 3], [10]):
        with pytest.raises(ValueError, match="distinct ints in 0..9"):
            first_map.write_index(out, "shapes", bad, 10)
    mask = np.packbits(np.isin(np.arange(10), [0, 5, 9]))
    np.savez(out / first_map.index_name("shapes"), mask=mask, rows=np.int64(10), recipe=np.array([0.2, 0.0]))
    assert first_map.train_index("shapes", 10) is None  # another split recipe (val share, seed)
    np.savez(out / first_map.index_name("shapes"), mask=np.zeros(2, np.int64), rows=np.int64(10))
    assert first_map.train_index("shapes", 10) is None
    (out / first_map.index_name("shapes")).write_bytes(b"PK\x03\x04 torn")
    assert first_map.train_index("shapes", 10) is None
