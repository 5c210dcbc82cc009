"""How much of each shape attribute a latent space holds linearly: R² of its best direction.

    python -m scripts.directions_table [--models vae-z16 ...]

Attributes (vae_core.attributes: area, thickness, slant, width, height) are measured on the
mnist5k digits; a least-squares direction is fitted on the 4,500 training codes (posterior
means) and scored on the 500 validation codes. Also checks the edit: moving each validation
code by +1 attribute standard deviation along its direction and measuring the decoded digit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

import vae_core
from vae_core.analysis.directions import fit_directions
from vae_core.data import attributes
from vae_core.model.estimators import encode_all

ROOT = Path(__file__).resolve().parents[1]


@torch.inference_mode()
def directions_for(model, train, val):
    """(fitted AttributeDirections, measured change of each attribute after a +1 std edit)."""
    train_codes, _ = encode_all(model, train.images)
    val_codes, _ = encode_all(model, val.images)
    dirs = fit_directions(train_codes, attributes.measure(train.images), val_codes, attributes.measure(val.images))
    before = attributes.measure(model.decode(val_codes))
    moved = {}
    for name, std in zip(dirs.names, dirs.attr_std, strict=True):
        after = attributes.measure(model.decode(dirs.shift(val_codes, name, std)))
        moved[name] = float((after[name] - before[name]).nanmean() / std)
    return dirs, moved


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.directions_table", description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["vae-z16"])
    args = p.parse_args(argv)
    train, val = vae_core.load_dataset("mnist5k", "train"), vae_core.load_dataset("mnist5k", "val")
    print("| model | " + " | ".join(f"{n} ({attributes.UNITS[n]})" for n in attributes.NAMES) + " |")
    print("|---|" + "---|" * len(attributes.NAMES))
    for name in args.models:
        path = ROOT / "checkpoints" / f"{name}.safetensors"
        try:
            model, _ = vae_core.load_checkpoint(path)
        except vae_core.CheckpointError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        dirs, moved = directions_for(model, train, val)
        cells = [
            f"R² {r2:.2f} · +1σ edit moves it {moved[n]:+.2f}σ" for n, r2 in zip(dirs.names, dirs.r2_val, strict=True)
        ]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
