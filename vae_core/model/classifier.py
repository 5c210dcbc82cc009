"""A small CNN that names the class of an image: the judge of decoded samples (analysis/quality.py).

Sample quality is measured the way Salimans et al. (2016) and Ghosh et al. (2020) do: a
classifier trained on real data labels the generated images, and its confidence and the class
histogram say whether samples look like data and cover every class. The classifier is trained
on the training split only (the validation split measures it), with 1-pixel random shifts.

Trained by vae_core.training.classifier; stored by vae_core.io.classifier_file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F


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
