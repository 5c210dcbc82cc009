"""What the app's note on foreign data says, measured for the README:

    python -m scripts.typicality_table

For the shipped VAEs of both datasets: the −ELBO of each Encode example (checkpoints/examples,
prepared as an upload) as a percentile of 1,000 held-out images of the model's own data, the
−ELBO the two reference VAEs (vae-z16, fashion-vae-z16) give it, and for the other dataset's
held-out images: their median −ELBO and the share above the own data's 99th percentile —
the figures ui/components/typicality.py shows (vae_core.analysis.typicality, 8 draws per image).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

import vae_core
from vae_core.analysis.typicality import fit_scores, share_untypical, typicality
from vae_core.data.preprocess import load_image, prepare_image

ROOT = Path(__file__).resolve().parents[1]
MODELS = (("vae-z2", "mnist5k", "fashion"), ("fashion-vae-z2", "fashion", "mnist5k"))
REFERENCES = {"mnist5k": "vae-z16", "fashion": "fashion-vae-z16"}
HELD_OUT = 1000  # as ui/services/measures.HELD_OUT


def load(stem: str):
    return vae_core.load_checkpoint(ROOT / "checkpoints" / f"{stem}.safetensors")[0]


def held_out(model, data: str) -> torch.Tensor:
    return fit_scores(model, vae_core.load_dataset(data, "val").subset(HELD_OUT).images)[0]


def main() -> int:
    refs = {data: load(stem) for data, stem in REFERENCES.items()}
    examples = sorted((ROOT / "checkpoints" / "examples").glob("*.png"))
    print(
        "| model | input | its −ELBO (nats) | above this share of held-out own images "
        "| −ELBO under vae-z16 / fashion-vae-z16 |"
    )
    print("|---|---|---|---|---|")
    for stem, own, other in MODELS:
        model = load(stem)
        reference = held_out(model, own)
        for path in examples:
            x = prepare_image(load_image(path.read_bytes(), 2**20))[None]
            t = typicality(model, x, reference)[0]
            by_ref = " / ".join(f"{float(fit_scores(refs[d], x)[0][0]):.0f}" for d in REFERENCES)
            print(f"| {stem} | {path.stem} | {t.value:.0f} | {100 * t.share_below:.1f}% | {by_ref} |")
        foreign = held_out(model, other)
        print(
            f"| {stem} | {len(foreign):,} held-out {other} images | median {float(foreign.median()):.0f} "
            f"(own: {float(reference.median()):.0f}) | {100 * share_untypical(foreign, reference):.1f}% above the own "
            "99th percentile | |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
