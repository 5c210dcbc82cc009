"""Training the classifier that judges decoded samples (vae_core.model.classifier)."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..data.augment import random_shift
from ..model.classifier import Classifier, ClassifierConfig, accuracy


def train_classifier(train, val, config: ClassifierConfig | None = None, seed: int = 0, progress=None):
    """Fit on `train` (a Dataset), measure on `val`: (model in eval mode, validation accuracy).

    AdamW with cosine decay on the cross-entropy; `progress(epoch, epochs, loss)` after each epoch.
    """
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
