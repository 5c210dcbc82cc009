"""A small CNN that names the class of an image: the judge of decoded samples (quality.py).

Sample quality is measured the way Salimans et al. (2016) and Ghosh et al. (2020) do: a
classifier trained on real data labels the generated images, and its confidence and the class
histogram say whether samples look like data and cover every class. The classifier is trained
on the training split only (the validation split measures it), with 1-pixel random shifts.

Files are safetensors with the metadata in the header (dataset, image shape, classes,
validation accuracy, config), read with the same checks as model checkpoints: pickles and
malformed files are refused with a CheckpointError, nothing is unpickled.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .atomic import atomic_write
from .checkpoint import CheckpointError, read_header

FORMAT = "vae_core.classifier"
FORMAT_VERSION = 1
ALIASES = {"mnist": "mnist5k"}  # the same digits: the mnist5k classifier judges full-MNIST models too


@dataclass
class ClassifierConfig:
    channels: tuple[int, int] = (16, 32)  # widths of the two 3x3 conv blocks (each followed by 2x2 max-pooling)
    hidden: int = 128  # width of the fully connected layer before the class logits
    epochs: int = 30  # passes over the training split
    batch_size: int = 128  # images per Adam step
    lr: float = 2e-3  # Adam learning rate, decayed to 0 with a cosine (Loshchilov & Hutter, 2017)
    weight_decay: float = 1e-4  # decoupled weight decay (AdamW; Loshchilov & Hutter, 2019)
    augment_shift: int = 1  # random translation of up to this many pixels: ~1 point of accuracy on 4,500 digits

    def __post_init__(self):
        self.channels = tuple(int(c) for c in self.channels)
        problems = []
        if len(self.channels) != 2 or min(self.channels) < 1:
            problems.append("channels must be two positive widths")
        if int(self.hidden) < 1 or int(self.epochs) < 1 or int(self.batch_size) < 1:
            problems.append("hidden width, epochs and batch size must be at least 1")
        if not (self.lr > 0 and math.isfinite(self.lr)) or self.weight_decay < 0 or self.augment_shift < 0:
            problems.append("the learning rate must be positive; weight decay and shift cannot be negative")
        if problems:
            raise ValueError("Invalid classifier settings: " + "; ".join(problems) + ".")

    @classmethod
    def from_dict(cls, d: dict) -> ClassifierConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown classifier settings: {', '.join(sorted(unknown))}")
        return cls(**d)


class Classifier(nn.Module):
    """conv3x3-ReLU-pool, conv3x3-ReLU-pool, linear-ReLU, linear: about 99 % on MNIST digits."""

    def __init__(self, config: ClassifierConfig, image_shape, n_classes: int, generator=None):
        super().__init__()
        c, h, w = (int(s) for s in image_shape)
        if h < 4 or w < 4 or n_classes < 2:
            raise ValueError(f"A classifier needs images of at least 4x4 pixels and 2 classes, not {image_shape}.")
        self.config, self.image_shape, self.n_classes = config, (c, h, w), int(n_classes)
        c1, c2 = config.channels
        self.conv1 = nn.Conv2d(c, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * (h // 4) * (w // 4), config.hidden)
        self.out = nn.Linear(config.hidden, self.n_classes)
        if generator is not None:
            self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default bounds (1/sqrt(fan_in)), drawn from `generator`, not the global RNG."""
        for m in (self.conv1, self.conv2, self.fc, self.out):
            bound = 1 / math.sqrt(m.weight[0].numel())
            m.weight.uniform_(-bound, bound, generator=generator)
            m.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images [N, C, H, W] in [0, 1] -> class logits [N, K]."""
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.out(F.relu(self.fc(h.flatten(1))))

    @torch.inference_mode()
    def predict_proba(self, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
        """Class probabilities [N, K] (softmax of the logits), in batches."""
        if x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(
                f"The classifier takes images [N, {', '.join(map(str, self.image_shape))}], not {list(x.shape)}."
            )
        return torch.cat([F.softmax(self(x[i : i + batch_size]), -1) for i in range(0, len(x), batch_size)])


def accuracy(model: Classifier, data) -> float:
    """Share of `data` (a Dataset) whose most probable class is its label."""
    return float((model.predict_proba(data.images).argmax(1) == data.labels).float().mean())


def train_classifier(train, val, config: ClassifierConfig | None = None, seed: int = 0, progress=None):
    """Fit on `train` (a Dataset), measure on `val`: (model in eval mode, validation accuracy).

    AdamW with cosine decay on the cross-entropy; `progress(epoch, epochs, loss)` after each epoch.
    """
    from .train import random_shift

    config = config or ClassifierConfig()
    gen = torch.Generator().manual_seed(seed)
    model = Classifier(config, train.image_shape, len(train.classes), generator=gen)
    model = model.to(memory_format=torch.channels_last)  # oneDNN's fast layout on CPU: ~2x the images/s here
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n, steps = len(train), config.epochs * math.ceil(len(train) / config.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    for epoch in range(1, config.epochs + 1):
        model.train()
        order, total = torch.randperm(n, generator=gen), 0.0
        for i in range(0, n, config.batch_size):
            idx = order[i : i + config.batch_size]
            x = train.images[idx]
            if config.augment_shift:
                x = random_shift(x, config.augment_shift, gen)
            x = x.contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(x), train.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if progress:
            progress(epoch, config.epochs, total / n)
    model = model.to(memory_format=torch.contiguous_format).eval()
    return model, accuracy(model, val)


def save_classifier(model: Classifier, path, meta: dict) -> Path:
    """Write weights + metadata (dataset, classes, accuracy...) atomically; never pickles."""
    from safetensors.torch import save

    path = Path(path)
    meta = {**meta, "image_shape": list(model.image_shape), "config": asdict(model.config)}
    header = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "meta": json.dumps(meta, allow_nan=False)}
    blob = save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, metadata=header)
    return atomic_write(path, lambda f: f.write(blob))


def load_classifier(path) -> tuple[Classifier, dict]:
    """(classifier in eval mode on CPU, metadata); a CheckpointError with the reason for a bad file."""
    path = Path(path)
    header = read_header(path)  # pickles, truncation, corrupt headers: refused as for models
    meta = _parse_meta(path, header)
    try:
        config = ClassifierConfig.from_dict(meta["config"])
        with torch.device("meta"):  # shapes only: no memory, no draw from the global RNG
            model = Classifier(config, meta["image_shape"], len(meta["classes"]))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path.name}: its classifier settings are unusable ({e}).") from None
    expected = {k: list(v.shape) for k, v in model.state_dict().items()}
    stored = {k: v.get("shape") for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}
    if stored != expected:
        raise CheckpointError(f"{path.name}: the weights do not match the classifier its metadata describes.")
    tensors = _load_tensors(path)
    if not all(t.dtype in (torch.float32, torch.float16, torch.bfloat16) for t in tensors.values()):
        raise CheckpointError(f"{path.name}: the weights are not floating-point numbers.")
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise CheckpointError(f"{path.name}: the weights contain NaN or infinite values.")
    model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=True, assign=True)
    return model.eval(), meta


def _parse_meta(path: Path, header: dict) -> dict:
    info = header.get("__metadata__")
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        what = (
            "a vae_core model checkpoint" if isinstance(info, dict) and info.get("format") == "vae_core" else "a file"
        )
        raise CheckpointError(f"{path.name}: {what}, but not a vae_core classifier.")
    if info.get("format_version") != str(FORMAT_VERSION):
        raise CheckpointError(
            f"{path.name}: classifier format {info.get('format_version')!r}; this vae_core reads {FORMAT_VERSION}."
        )
    try:
        meta = json.loads(info["meta"])
    except (KeyError, TypeError, json.JSONDecodeError):
        raise CheckpointError(f"{path.name}: its metadata is corrupt.") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path.name}: its metadata is corrupt.")
    shape, classes = meta.get("image_shape"), meta.get("classes")
    ok_shape = isinstance(shape, list) and len(shape) == 3 and all(isinstance(s, int) and 0 < s <= 4096 for s in shape)
    ok_classes = isinstance(classes, list) and 2 <= len(classes) <= 10_000 and all(isinstance(c, str) for c in classes)
    if not (ok_shape and ok_classes and isinstance(meta.get("config"), dict)):
        raise CheckpointError(f"{path.name}: its metadata lacks a valid image shape, class list or config.")
    return meta


def _load_tensors(path: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path.name}: the weights cannot be read ({e}).") from None


def classifier_for(dataset: str, folder) -> Path | None:
    """The shipped classifier file for a dataset name (`folder`/NAME.safetensors), or None."""
    path = Path(folder) / f"{ALIASES.get(dataset, dataset)}.safetensors"
    return path if path.is_file() else None
