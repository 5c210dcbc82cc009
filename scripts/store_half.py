"""Re-store checkpoints with float16 weights (half the file size), re-measuring their metrics.

    python -m scripts.store_half checkpoints/*.safetensors

The stored validation figures ("metrics", "evaluation") are recomputed on the rounded
weights, so what a checkpoint says about itself stays true of the file.
"""

import argparse
import sys

import torch

import vae_core
from vae_core.analysis.metrics import evaluate
from vae_core.data.binarize import binarized_once, likelihood_label
from vae_core.model.estimators import IW_ESTIMATOR, elbo_terms


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("paths", nargs="+")
    args = p.parse_args(argv)
    for path in args.paths:
        model, meta = vae_core.load_checkpoint(path)
        model = model.half().float()  # what loading the half file will give
        name = meta.get("dataset", "mnist5k")
        val, train = vae_core.load_dataset(name, "val"), vae_core.load_dataset(name, "train")
        binarized = meta.get("train_config", {}).get("binarize") == "dynamic"
        if binarized:  # the protocol it was trained and validated on: the fixed binarisation
            val, train = binarized_once(val), binarized_once(train)
        seed = meta.get("seed", 0)
        meta["metrics"] = elbo_terms(model, val.images, seed=seed)
        if "evaluation" in meta:
            k = meta["evaluation"]["iw_samples"]
            stamp = {"likelihood": likelihood_label(binarized), "iw_estimator": IW_ESTIMATOR}
            meta["evaluation"] = {"split": "val", "iw_samples": k, **stamp, **evaluate(model, val, train, iw_samples=k)}
        meta["weights_dtype"] = "float16"
        vae_core.save_checkpoint(model, path, meta, dtype=torch.float16)
        print(path, {k: round(v, 2) for k, v in meta["metrics"].items()}, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
