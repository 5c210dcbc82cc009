"""The z = 2 autoencoders' holes on both shipped datasets, as the Compare page measures them:

    python -m scripts.ae_holes_table

For ae-z2 (MNIST digits) and fashion-ae-z2 (Fashion-MNIST): the spread of q(z) per dimension,
the share of the codes inside the prior's 2σ circle (where N(0, I_2) puts 86 % of its mass),
and the share of the prior's mass in holes, q(z) < p(z)/10, with q an adaptive KDE of the codes
and the same estimator's share when q is the prior — the calls ui/services/prior_holes.py makes
(a fresh generator seeded 0), on the training split the app's maps show.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

import vae_core
from vae_core.analysis.holes import code_scale, prior_holes
from vae_core.analysis.wording import SPREAD_NAME, spread_text
from vae_core.model.estimators import encode_all

ROOT = Path(__file__).resolve().parents[1]
MODELS = (("ae-z2", "mnist5k"), ("fashion-ae-z2", "fashion"))
MAP_POINTS = 60_000  # as ui/settings.py: a whole training split


def row(stem: str, data: str) -> str:
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{stem}.safetensors")
    mean, logvar = encode_all(model, vae_core.load_dataset(data, "train").subset(MAP_POINTS).images)
    inside = float((mean.norm(dim=1) < 2).double().mean())
    h = prior_holes(mean, logvar, torch.Generator().manual_seed(0))
    spread = spread_text(code_scale(mean, logvar).aggregate_std)
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    return f"| {stem} | {len(mean):,} | {spread} | {pct(inside)} | {pct(h.share)} ± {pct(h.se)} | {pct(h.floor)} |"


def main() -> int:
    print(f"| model | codes | {SPREAD_NAME} (prior: 1) | codes inside the prior's 2σ circle (prior: 86.5%) "
          "| prior mass in holes, q < p/10 (KDE) | same estimator when q = p |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for stem, data in MODELS:
        t0 = time.perf_counter()
        print(row(stem, data), flush=True)
        print(f"{stem}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
