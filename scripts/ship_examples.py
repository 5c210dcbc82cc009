"""Ship the Encode page's example images: a few held-out images of each shipped dataset as PNGs.

    python -m scripts.ship_examples

writes checkpoints/examples/<dataset>-<class index>-<class name>.png: 28×28 grey PNGs of the
first validation image of each chosen class (never a training image: an example is new to every
model), light on black as the datasets store them. The Encode page offers those of the model's
own dataset, and one of another dataset to show what a model does with data it never saw.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import vae_core  # noqa: E402
from ui import settings  # noqa: E402

CHOSEN = {"mnist5k": (2, 4, 7, 9), "fashion": (1, 3, 7, 8)}  # digits 2 4 7 9; trouser, dress, sneaker, bag


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower())


def main() -> int:
    out = settings.shipped_dir() / "examples"
    out.mkdir(parents=True, exist_ok=True)
    for name, classes in CHOSEN.items():
        val = vae_core.load_dataset(name, "val")
        labels = val.labels.numpy()
        for c in classes:
            i = int(np.flatnonzero(labels == c)[0])
            pixels = np.rint(val.images[i, 0].numpy() * 255).astype(np.uint8)
            path = out / f"{name}-{c}-{slug(val.classes[c])}.png"
            Image.fromarray(pixels).save(path, optimize=True)
            print(f"{path.relative_to(ROOT)}: validation image #{i} ({val.classes[c]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
