"""Data augmentation: random translations (the recipe's 1-pixel shift fights overfitting on 4,500 digits)."""

from __future__ import annotations

import torch


def random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by up to max_shift pixels (zero padding), all in one gather."""
    n, c, h, w = x.shape
    dev = x.device
    padded = torch.nn.functional.pad(x, (max_shift,) * 4)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen, device=dev)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen, device=dev)
    rows = (dy[:, None] + torch.arange(h, device=dev))[:, None, :, None].expand(n, c, h, w + 2 * max_shift)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w, device=dev))[:, None, None, :].expand(n, c, h, w)
    return out.gather(3, cols)
