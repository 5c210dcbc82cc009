"""Fit and store the default t-SNE and UMAP maps of shipped models, as the app would on first use.

The app reads these read-only from checkpoints/projections/ (vae_core.projection); the key of a
map is the checkpoint's content hash + data + parameters + library versions, so run this after
retraining a model or upgrading scikit-learn, umap-learn or numpy. It is the only writer of that
folder, and it writes there explicitly (--out):

    nice python -m scripts.ship_projections                       # all checkpoints, mnist5k points
    nice python -m scripts.ship_projections --dataset fashion --models checkpoints/fashion-*.safetensors
    nice python -m scripts.ship_projections --dataset fashion --methods umap --models ...   # one method

The points are the ones the app shows for that dataset: the training split, subset to MAP_POINTS.
"""

import argparse
import re
import sys
import time
from pathlib import Path

from tqdm import tqdm

import vae_core
from vae_core.analysis.projection import DEFAULT_PARAMS, project
from vae_core.model.estimators import encode_all

ROOT = Path(__file__).resolve().parents[1]
MAP_POINTS = 60_000  # as ui/settings.MAP_POINTS: the points a map shows, hence its cache key
METHODS = ("tsne", "umap")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist5k", choices=vae_core.data.DATASETS, help="whose points are mapped")
    p.add_argument("--data-root", default=None, help="torchvision root for mnist/fashion (as the app's)")
    p.add_argument("--models", nargs="+", type=Path, help="checkpoints to map (default: checkpoints/*.safetensors)")
    p.add_argument("--out", type=Path, default=ROOT / "checkpoints" / "projections", help="where the maps go")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS, help="which maps to fit")
    return p.parse_args(argv)


def stale_maps(folder: Path, stem: str, methods=METHODS) -> list[Path]:
    """This model's earlier maps (keys change with weights and versions: old ones only take space)."""
    pattern = re.compile(rf"^{re.escape(stem)}-({'|'.join(methods)})-[0-9a-f]{{16}}\.npz$")
    return [p for p in folder.glob("*.npz") if pattern.match(p.name)] if folder.is_dir() else []


def main(argv=None) -> int:
    args = parse_args(argv)
    paths = args.models or sorted((ROOT / "checkpoints").glob("*.safetensors"))
    data = vae_core.load_dataset(args.dataset, "train", args.data_root).subset(MAP_POINTS)
    for path in tqdm(paths, file=sys.stderr, desc="projections"):
        model, _ = vae_core.load_checkpoint(path)
        if tuple(model.config.image_shape) != data.image_shape:
            print(f"{path.name}: skipped, its images are not {args.dataset}'s", file=sys.stderr)
            continue
        for stale in stale_maps(args.out, path.stem, args.methods):
            stale.unlink()
        mean, _ = encode_all(model, data.images)
        for method in args.methods:
            t0 = time.perf_counter()
            key = f"{args.dataset}:train:{len(mean)}"  # as ui/services/latents.project builds it
            project(mean.numpy(), method, DEFAULT_PARAMS[method], path, key, cache_dir=args.out, cache_limit=None)
            print(f"{path.stem} {method}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
