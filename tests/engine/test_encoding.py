"""Encoding a whole dataset in batches: progress, cancel, the content-addressed code cache
(vae_core.analysis.encoding, vae_core.io.code_cache) and the generated synthetic:N digits."""

import numpy as np
import pytest
import torch

import vae_core
from vae_core.analysis.encoding import Cancelled, encode_cached, encode_dataset
from vae_core.data import catalog
from vae_core.io import code_cache
from vae_core.model.estimators import encode_all


@pytest.fixture
def data8():
    x = torch.rand(50, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    return vae_core.data.Dataset("test8", "train", x, torch.arange(50) % 10, catalog.DIGIT_CLASSES)


def test_batched_encoding_equals_the_engines_and_reports_every_batch(tiny_model, data8):
    model = tiny_model()
    seen = []
    mean, logvar = encode_dataset(model, data8.images, batch_size=16, progress=lambda d, n: seen.append((d, n)))
    with torch.inference_mode():
        ref_mean, ref_logvar = encode_all(model, data8.images)
    assert np.allclose(mean, ref_mean.numpy(), atol=1e-6) and np.allclose(logvar, ref_logvar.numpy(), atol=1e-6)
    assert seen == [(16, 50), (32, 50), (48, 50), (50, 50)]


def test_a_cancelled_encoding_stops_between_batches_and_stores_nothing(tiny_model, data8, tmp_path):
    model, asked = tiny_model(), []

    def stop():
        asked.append(1)
        return len(asked) > 2  # after two batches

    with pytest.raises(Cancelled, match="after 32 of 50"):
        encode_cached(model, data8, "m" * 64, tmp_path, should_stop=stop, batch_size=16)
    assert list(tmp_path.iterdir()) == []


def test_codes_are_cached_as_float16_under_the_models_and_the_datas_digests(tiny_model, data8, tmp_path):
    model = tiny_model()
    mean, logvar = encode_cached(model, data8, "a" * 64, tmp_path)
    (file,) = tmp_path.glob("codes-*.npy")
    assert np.load(file).dtype == np.float16 and np.load(file).shape == (2, 50, 3)
    exact, _ = encode_dataset(model, data8.images)
    assert np.allclose(mean, exact, atol=2e-3) and np.array_equal(mean, mean.astype(np.float16).astype(np.float32))
    calls = []
    again = encode_cached(model, data8, "a" * 64, tmp_path, progress=lambda *a: calls.append(a))
    assert calls == [] and np.array_equal(again[0], mean)  # read back, not encoded
    encode_cached(model, data8, "b" * 64, tmp_path)  # another model: another file
    other = vae_core.data.Dataset("test8", "train", data8.images.flip(0), data8.labels, data8.classes)
    encode_cached(model, other, "a" * 64, tmp_path)  # other images: another file
    assert len(list(tmp_path.glob("codes-*.npy"))) == 3


def test_a_broken_or_foreign_code_file_is_removed_and_encoded_again(tiny_model, data8, tmp_path):
    model = tiny_model()
    encode_cached(model, data8, "a" * 64, tmp_path)
    (file,) = tmp_path.glob("codes-*.npy")
    for blob in (b"", b"\x93NUMPY garbage", file.read_bytes()[:200]):
        file.write_bytes(blob)
        calls = []
        encode_cached(model, data8, "a" * 64, tmp_path, progress=lambda *a, calls=calls: calls.append(a))
        assert calls and np.load(file).shape == (2, 50, 3)
    np.save(file, np.full((2, 50, 3), np.nan, np.float16))  # the right shape, not codes
    calls = []
    encode_cached(model, data8, "a" * 64, tmp_path, progress=lambda *a: calls.append(a))
    assert calls and np.isfinite(np.load(file)).all()


def test_codes_beyond_float16_are_kept_as_float32():
    mean = np.array([[1e5, 0.0]], np.float32)
    logvar = np.array([[-np.inf, 0.5]], np.float32)  # an autoencoder's point mass
    stored = code_cache.stored(mean, logvar)
    assert stored.dtype == np.float32 and stored[1, 0, 0] == -np.inf
    assert code_cache.stored(mean / 1e4, logvar).dtype == np.float16


def test_the_generated_dataset_is_deterministic_bytes_that_index_to_floats(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path))
    a = vae_core.load_dataset("synthetic:3000")
    assert len(a) == 3000 and a.image_shape == (1, 28, 28) and a.classes == catalog.DIGIT_CLASSES
    batch = a.images[100:110]
    assert batch.dtype == torch.float32 and batch.shape == (10, 1, 28, 28) and 0 <= batch.min() and batch.max() <= 1
    assert torch.equal(a.images[torch.tensor([5, 7])], a.images[[5, 7]])
    written = sorted(p.name for p in (tmp_path / "data").glob("synthetic-*.npy"))
    assert len(written) == 2 and written[0] == written[1].replace(".npy", "-labels.npy")  # labels, images
    b = vae_core.load_dataset("synthetic:3000")  # read back from the cache file
    assert np.array_equal(a.images.uint8(), b.images.uint8()) and torch.equal(a.labels, b.labels)
    assert a.digest == b.digest != vae_core.load_dataset("synthetic:3001").digest
    assert len(set(a.labels[:100].tolist())) == 10  # drawn at random: indices say nothing about classes
    ink = a.images.uint8().reshape(3000, -1).astype(float).sum(1)
    assert ink.min() > 0  # every image holds a digit
    with pytest.raises(ValueError, match="synthetic:N"):
        vae_core.load_dataset("synthetic:0")
    with pytest.raises(ValueError, match="synthetic:N"):
        vae_core.load_dataset("synthetic:12abc")
