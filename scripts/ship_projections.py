"""Fit and store the t-SNE and UMAP maps of every shipped model, as the app would on first use.

The app finds them by checkpoint content hash + data + parameters (vae_core.projection), so
its first visit to a map is as fast as a warm one. Run after retraining checkpoints/.
"""

import sys
import time
from pathlib import Path

from tqdm import tqdm

import vae_core
from vae_core.evaluate import encode_all
from vae_core.projection import DEFAULT_PARAMS, project

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    data = vae_core.load_dataset("mnist5k", "train")
    paths = sorted((ROOT / "checkpoints").glob("*.safetensors"))
    for stale in (ROOT / "checkpoints" / "projections").glob("*.npz"):
        stale.unlink()  # keys change with the weights: old maps would only take space
    for path in tqdm(paths, file=sys.stderr, desc="projections"):
        model, _ = vae_core.load_checkpoint(path)
        mean, _ = encode_all(model, data.images)
        for method in ("tsne", "umap"):
            t0 = time.perf_counter()
            project(
                mean.numpy(), method, DEFAULT_PARAMS[method], checkpoint=path, data_key=f"mnist5k:train:{len(mean)}"
            )
            print(f"{path.stem} {method}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
