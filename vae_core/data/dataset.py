"""Dataset: one split of images, their labels or none, and any true per-image factors; its splits.

Images are a float32 tensor [N, C, H, W] in [0, 1], or a compact store (vae_core.data.store)
that indexes to such batches, for data too large to hold as floats. Labels: class indices into
`classes`, or UNLABELLED (-1) for every image when `classes == ()` (a folder of images without
class sub-folders: colour its map by a measured attribute or a cluster instead). `factors`:
true per-image values where the data were generated from them (`shapes`: scale, orientation,
position; the shape itself is the label), {} elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .catalog import SPLIT_SEED, VAL_FRACTION
from .store import ImageStore

UNLABELLED = -1  # the label of every image of unlabelled data


@dataclass
class Dataset:
    name: str
    split: str
    images: torch.Tensor | ImageStore  # float32 [N, C, H, W] in [0, 1]; a store indexes to such batches
    labels: torch.Tensor  # int64 [N]; UNLABELLED (-1) everywhere when classes == ()
    classes: tuple[str, ...]  # class names (folder names for a folder); () for unlabelled data
    factors: dict[str, torch.Tensor] = field(default_factory=dict)  # true per-image values, float32 [N] each
    note: str = ""  # what loading found (a folder's "10,000 images in 10 classes; skipped 4: ...")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    @property
    def labelled(self) -> bool:
        return bool(self.classes)

    def take(self, idx: torch.Tensor) -> Dataset:
        """The items at `idx` (a sorted index tensor), images still compact when they were."""
        images = self.images.take(idx) if isinstance(self.images, ImageStore) else self.images[idx]
        factors = {k: v[idx] for k, v in self.factors.items()}
        return Dataset(self.name, self.split, images, self.labels[idx], self.classes, factors, self.note)

    def subset(self, n: int, seed: int = 0) -> Dataset:
        """A fixed random subset of n items (all of them if n >= len)."""
        if n >= len(self):
            return self
        return self.take(torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n].sort().values)


def split_of(data: Dataset, split: str) -> Dataset:
    """The train or val part of `data` (stratified by label, VAL_FRACTION held out, the same everywhere);
    trainval is all of it (the published protocol trains on every training image)."""
    if split == "trainval":
        part = data.take(torch.arange(len(data.labels)))
        part.split = split
        return part
    train_idx, val_idx = stratified_split(data.labels, VAL_FRACTION)
    part = data.take(train_idx if split == "train" else val_idx)
    part.split = split
    return part


def stratified_split(labels: torch.Tensor, val_fraction: float, seed: int = SPLIT_SEED):
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
