"""Image grids with a line of text under each image (the Sample page: the classifier's class and
confidence per sample). No Streamlit, no torch: images come as arrays or tensors (figures.pixels)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ui.render.figures import pixels

LABEL_PX = 16  # height of the text line under each image
BACKGROUND, TEXT, DOUBT = (89, 89, 89), (235, 235, 235), (255, 190, 90)  # grey as image_grid's; amber: unnamed


def labelled_grid(images, labels: list[str], doubtful: list[bool] | None = None, nrow: int = 8, scale: int = 2):
    """Images in rows of `nrow`, each scaled up `scale` times with its label centred underneath;
    labels marked doubtful are drawn in amber (e.g. a class the classifier is not sure of)."""
    a = pixels(images)
    n, h, w, c = a.shape
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} images.")
    doubtful = doubtful or [False] * n
    tile_w, tile_h, pad = w * scale, h * scale + LABEL_PX, 2
    ncol, nrows = min(nrow, max(n, 1)), max(1, -(-n // nrow))
    grid = Image.new("RGB", (ncol * (tile_w + pad) + pad, nrows * (tile_h + pad) + pad), BACKGROUND)
    draw = ImageDraw.Draw(grid)
    font = ImageFont.load_default(size=max(9, LABEL_PX - 5))
    for k in range(n):
        x, y = pad + (k % nrow) * (tile_w + pad), pad + (k // nrow) * (tile_h + pad)
        tile = Image.fromarray(a[k][..., 0] if c == 1 else a[k]).convert("RGB")
        grid.paste(tile.resize((tile_w, h * scale), Image.Resampling.NEAREST), (x, y))
        draw.text((x + tile_w / 2, y + h * scale + LABEL_PX / 2), labels[k], fill=DOUBT if doubtful[k] else TEXT,
                  font=font, anchor="mm")  # fmt: skip
    return grid


def class_labels(probabilities: np.ndarray, classes, low_confidence: float) -> tuple[list[str], list[bool]]:
    """Per image: "class · 97%" for its most probable class, and whether that is below `low_confidence`."""
    p = np.asarray(probabilities, np.float64)
    top, conf = p.argmax(1), p.max(1)
    labels = [f"{classes[int(t)]} · {q:.0%}" for t, q in zip(top, conf, strict=True)]
    return labels, [bool(q < low_confidence) for q in conf]
