import gzip

import numpy as np
import pytest
import torch

from vae_core.data import DatasetUnavailable, load_dataset, read_idx


def test_mnist5k_is_the_offline_default_with_a_stratified_split():
    train, val = load_dataset("mnist5k", "train"), load_dataset("mnist5k", "val")
    assert train.images.shape == (4500, 1, 28, 28) and val.images.shape == (500, 1, 28, 28)
    assert train.images.dtype == torch.float32 and 0 <= train.images.min() and train.images.max() <= 1
    assert val.labels.bincount().tolist() == [50] * 10
    again = load_dataset("mnist5k", "val")
    assert torch.equal(again.images, val.images)  # deterministic split


def test_digits_are_small_and_complete():
    train, val = load_dataset("digits", "train"), load_dataset("digits", "val")
    assert train.image_shape == (1, 8, 8) and len(train) + len(val) == 1797


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="Unknown dataset"):
        load_dataset("cifar")
    with pytest.raises(ValueError, match="no separate test split"):
        load_dataset("mnist5k", "test")


def _write_idx(path, arr: np.ndarray, gz=False):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_loads_offline_from_a_torchvision_root(tmp_path, gz):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for stem, n in (("train", 100), ("t10k", 30)):
        sfx = ".gz" if gz else ""
        _write_idx(raw / f"{stem}-images-idx3-ubyte{sfx}", rng.integers(0, 256, (n, 28, 28)), gz)
        _write_idx(raw / f"{stem}-labels-idx1-ubyte{sfx}", np.arange(n) % 10, gz)
    test = load_dataset("mnist", "test", tmp_path)
    assert test.images.shape == (30, 1, 28, 28) and test.labels[:3].tolist() == [0, 1, 2]
    assert len(load_dataset("mnist", "train", tmp_path)) + len(load_dataset("mnist", "val", tmp_path)) == 100


def test_missing_files_name_the_folder_and_files(tmp_path, monkeypatch):
    import vae_core.data as data

    monkeypatch.setattr(data, "_try_download", lambda name, root: False)  # offline
    with pytest.raises(DatasetUnavailable) as e:
        load_dataset("mnist", "test", tmp_path)
    assert str(tmp_path / "MNIST" / "raw") in str(e.value) and "t10k-images-idx3-ubyte" in str(e.value)


def test_truncated_idx_is_reported(tmp_path):
    p = tmp_path / "x-idx3-ubyte"
    _write_idx(p, np.zeros((4, 2, 2)))
    p.write_bytes(p.read_bytes()[:-3])
    with pytest.raises(DatasetUnavailable, match="truncated"):
        read_idx(p)
