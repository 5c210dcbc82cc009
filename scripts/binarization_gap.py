"""How loose the grey-level cross-entropy is as a stand-in for the binarised NLL, measured.

    python -m scripts.binarization_gap [--checkpoint checkpoints/vae-z2.safetensors] [--iw-samples 1000] [--draws 5]
        [--out bench/binarization_gap.json]

For the Bernoulli decoder, -log p(x|z) with grey x in [0, 1] is the expectation over binary
images b ~ Bernoulli(x) of -log p(b|z); by Jensen's inequality the grey-level figure bounds the
expected binarised NLL from above. This script scores the model's validation (or test) split
both ways with the same importance samples: the grey levels, and `--draws` binarisations
(seeds 0, 1, ...; seed 0 is the fixed evaluation draw of vae_core.data.binarize), and reports
the per-image gap with its standard error over images. Writes bench/binarization_gap.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "binarization_gap.json"


def main(argv=None) -> int:
    import torch

    import vae_core
    from vae_core.data.binarize import binarized_once
    from vae_core.model.estimators import iw_nll_per_image

    p = argparse.ArgumentParser(prog="python -m scripts.binarization_gap")
    p.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / "vae-z2.safetensors"))
    p.add_argument("--iw-samples", type=int, default=1000)
    p.add_argument("--draws", type=int, default=5)
    p.add_argument("--out", default=str(OUT), help="where the JSON goes")
    args = p.parse_args(argv)
    model, meta = vae_core.load_checkpoint(args.checkpoint)
    name = meta.get("dataset", "mnist5k")
    split = "val" if name in ("mnist5k", "digits") else "test"
    data = vae_core.load_dataset(name, split)
    grey = iw_nll_per_image(model, data.images, args.iw_samples, seed=0).double()
    draws = [iw_nll_per_image(model, binarized_once(data, s).images, args.iw_samples, seed=0).double()
             for s in range(args.draws)]  # fmt: skip
    expected = torch.stack(draws).mean(0)  # per image, the mean over the draws
    gap = grey - expected
    result = {
        "checkpoint": Path(args.checkpoint).name,
        "dataset": name,
        "split": split,
        "n": len(data),
        "iw_samples": args.iw_samples,
        "grey_level_ce_nll_iw": grey.mean().item(),
        "binarised_nll_iw_per_draw": [d.mean().item() for d in draws],
        "binarised_nll_iw_mean_over_draws": expected.mean().item(),
        "gap": gap.mean().item(),
        "gap_se": (gap.std() / math.sqrt(len(gap))).item(),
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
