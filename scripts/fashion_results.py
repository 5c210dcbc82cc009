"""Measure the shipped Fashion-MNIST models on Fashion's 10,000 test images.

    python -m scripts.fashion_results [--iw-samples 1000]

For each checkpoints/fashion-{vae,ae,kl}-z{2,16}.safetensors: −ELBO terms, the IW-NLL with K
importance samples (Burda et al. 2016; the VAE and KL-only models have a density, the AE has
none), active units and kNN accuracy (neighbours from the 54,000 training images), plus the
training time and samples/s stored in the checkpoint. Writes bench/fashion_results.json and
prints the README's markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "fashion_results.json"
NAMES = [f"fashion-{kind}-z{d}" for d in (2, 16) for kind in ("vae", "ae", "kl")]


def measure(name: str, iw_samples: int) -> dict:
    import vae_core
    from vae_core.analysis.metrics import evaluate
    from vae_core.io.jsonable import finite_or_none

    model, meta = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{name}.safetensors")
    test, train = vae_core.load_dataset("fashion", "test"), vae_core.load_dataset("fashion", "train")
    k = iw_samples if meta["kind"] != "ae" else 1  # an autoencoder has no likelihood to bound
    t0 = time.perf_counter()
    metrics = evaluate(model, test, train, iw_samples=k, seed=0)
    metrics.pop("kl_per_dim")
    return {
        "name": name,
        "iw_samples": k,
        **{key: finite_or_none(v) for key, v in metrics.items()},
        "eval_seconds": time.perf_counter() - t0,
        "epochs": meta["train_config"]["epochs"],
        "precision": meta["train_config"].get("precision", "fp32"),
        "train_seconds": meta.get("train_seconds"),
        "wall_seconds": meta.get("wall_seconds"),
        "samples_per_s": meta.get("samples_per_s"),
    }


def table(rows: list[dict]) -> str:
    def f(v, spec=".1f"):
        return "—" if v is None else format(v, spec)

    lines = [
        # grey CE: cross-entropy against the grey-level pixels, an upper bound on the expected binarised NLL
        "| model | recon, grey CE | KL | −ELBO, grey CE | IW-NLL, grey CE (K=1000) | active units | kNN acc | training "
        "| samples/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        d = r["name"].rsplit("z", 1)[1]
        lines.append(
            f"| {r['name']} | {f(r['recon'])} | {f(r['kl'])} | {f(r['neg_elbo'])} | {f(r['nll_iw'])} | "
            f"{r['active_units']}/{d} | {r['knn_accuracy']:.1%} | {f((r['wall_seconds'] or 0) / 60, '.0f')} min | "
            f"{f(r['samples_per_s'], ',.0f')} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.fashion_results")
    p.add_argument("--iw-samples", type=int, default=1000)
    args = p.parse_args(argv)
    rows = []
    for name in NAMES:
        rows.append(measure(name, args.iw_samples))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        OUT.write_text(json.dumps(rows, indent=1) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
