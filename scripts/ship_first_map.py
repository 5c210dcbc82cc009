"""Ship what the first page's map needs as plain arrays (ui/services/first_map.py):

    python -m scripts.ship_first_map [--model vae-z2] [--data mnist5k]
    python -m scripts.ship_first_map --model shapes-vae-z10 --data shapes

writes checkpoints/first_map/<model>-<sha256 of the checkpoint>-<data>.npz (the codes of the
data's training split: posterior means and log-variances, as the app's encoder computes them)
and checkpoints/first_map/<data>-train.npz (those images as uint8, their labels and class names).
Rerun it after retraining the default model: the codes file is named by the checkpoint's content,
so a changed checkpoint simply falls back to encoding with torch until then.

A generated dataset (`shapes`, `synthetic:N`) ships no images (the app draws them again, exactly;
for shapes, checkpoints/first_map/shapes-train-index.npz names the rows of its training split),
and codes of more than FLOAT16_ABOVE points are stored as float16, as the app's own code cache
keeps them (vae_core.io.code_cache): the shapes models' 663,552 codes are 13 MB a array, not 27.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import vae_core  # noqa: E402
from ui import settings  # noqa: E402
from ui.livemap.publish import to_uint8_images  # noqa: E402
from ui.services import first_map  # noqa: E402
from vae_core.data import catalog, shapes  # noqa: E402
from vae_core.model.estimators import encode_all  # noqa: E402

FLOAT16_ABOVE = 100_000  # points: above this the codes ship as float16 (the app's cache precision)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="vae-z2")
    p.add_argument("--data", default="mnist5k")
    args = p.parse_args(argv)
    path = settings.shipped_dir() / f"{args.model}.safetensors"
    model, _ = vae_core.load_checkpoint(path)
    data = vae_core.load_dataset(args.data, "train").subset(settings.MAP_POINTS)  # as ui/services/data.dataset
    mean, logvar = encode_all(model, data.images)
    out = first_map.folder()
    for old in out.glob(f"{args.model}-*-{args.data}.npz"):  # codes of an earlier version of the checkpoint
        old.unlink()
    generated = args.data == "shapes" or catalog.is_synthetic(args.data)
    written = first_map.write(
        out,
        args.model,
        first_map.checkpoint_digest(path),
        args.data,
        mean.numpy(),
        logvar.numpy(),
        None if generated else to_uint8_images(data.images),
        data.labels.numpy(),
        data.classes,
        dtype="float16" if len(data) > FLOAT16_ABOVE else "float32",
    )
    if args.data == "shapes":  # its map's rows, so the first page needs no torch (first_map.train_index)
        written.append(first_map.write_index(out, args.data, data.images.index, shapes.N_IMAGES))
    print(json.dumps({str(p.relative_to(ROOT)): p.stat().st_size for p in written}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
