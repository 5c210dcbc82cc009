"""Fashion-MNIST on the published protocol: the README's table, regenerated from the checkpoint.

    python -m scripts.fashion_binarized_results [--iw-samples 5000] [--compare-float32 PATH]

Measures checkpoints/fashion-vae-z40-bin.safetensors on Fashion's 10,000 test images binarised
once with the fixed seed of vae_core.data.binarize (their SHA-256 is written beside the figures),
with the IW-NLL at K = 5000 importance samples as the papers use (Burda et al. 2016), and puts it
beside the published figures it is compared with. Writes bench/fashion_binarized_results.json and
prints the README's markdown table. The same figures come from
`python -m vae_core.evaluate checkpoints/fashion-vae-z40-bin.safetensors --binarized --iw-samples 5000`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "fashion_binarized_results.json"
NAME = "fashion-vae-z40-bin"
# Dynamically binarised Fashion-MNIST, test NLL in nats (Norouzi et al. 2020, "Exemplar VAE", Table 2).
PUBLISHED = [
    ("VAE, Gaussian prior (gated MLP 2×300, z = 40)", "228.70 ± 0.15"),
    ("VAE, VampPrior", "227.35"),
    ("ConvHVAE (convolutional, two stochastic layers)", "225.38–224.63"),
]


def measure(path: Path, iw_samples: int) -> dict:
    import vae_core
    from vae_core.analysis.metrics import evaluate
    from vae_core.data.binarize import EVAL_BINARIZE_SEED, LIKELIHOOD_BINARIZED, binarized_once, digest
    from vae_core.io.jsonable import finite_or_none

    model, meta = vae_core.load_checkpoint(path)
    test = binarized_once(vae_core.load_dataset("fashion", "test"))
    train = binarized_once(vae_core.load_dataset("fashion", "train"))  # kNN neighbours only
    t0 = time.perf_counter()
    metrics = evaluate(model, test, train, iw_samples=iw_samples, seed=0)
    metrics.pop("kl_per_dim")
    tcfg = meta["train_config"]
    return {
        "name": path.stem,
        "likelihood": LIKELIHOOD_BINARIZED,
        "split": "test",
        "binarize_seed": EVAL_BINARIZE_SEED,
        "binarized_sha256": digest(test.images),
        "iw_samples": iw_samples,
        **{k: finite_or_none(v) for k, v in metrics.items()},
        "eval_seconds": time.perf_counter() - t0,
        "latent_dim": model.config.latent_dim,
        "hidden": list(model.config.hidden),
        "objective": model.config.objective,
        "mc_samples": model.config.mc_samples,
        "epochs": tcfg["epochs"],
        "binarize": tcfg.get("binarize"),
        "train_split": meta.get("train_split", "train"),
        "n_train": meta.get("n_train"),
        "precision": tcfg.get("precision"),
        "weights_dtype": meta.get("weights_dtype", "float32"),
        "train_seconds": meta.get("train_seconds"),
        "wall_seconds": meta.get("wall_seconds"),
        "samples_per_s": meta.get("samples_per_s"),
    }


def table(row: dict) -> str:
    hours = (row["wall_seconds"] or 0) / 3600
    lines = [
        f"| model | test NLL, binarised (IW, K = {row['iw_samples']:,}) | −ELBO | KL | active units | training |",
        "|---|---|---|---|---|---|",
        f"| **{row['name']}** (MLP {'-'.join(map(str, row['hidden']))}, z = {row['latent_dim']}, "
        f"{row['objective'].upper()} L = {row['mc_samples']}, {row['epochs']} epochs) | "
        f"**{row['nll_iw']:.2f} ± {row['nll_iw_se']:.2f}** | {row['neg_elbo']:.2f} | {row['kl']:.1f} | "
        f"{row['active_units']}/{row['latent_dim']} | {hours:.1f} h, {row['samples_per_s']:,.0f} samples/s |",
    ]
    lines += [f"| {name} (published) | {nll} | | | | |" for name, nll in PUBLISHED]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.fashion_binarized_results")
    p.add_argument("--iw-samples", type=int, default=5000)
    p.add_argument("--checkpoint", default=str(ROOT / "checkpoints" / f"{NAME}.safetensors"))
    args = p.parse_args(argv)
    row = measure(Path(args.checkpoint), args.iw_samples)
    print(json.dumps(row), file=sys.stderr, flush=True)
    OUT.write_text(json.dumps(row, indent=1) + "\n")
    print(table(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
