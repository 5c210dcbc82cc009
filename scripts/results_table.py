"""The README's results table: every shipped model evaluated on mnist5k's validation split.

    python -m scripts.results_table [--iw-samples 1000]

Same numbers as `python -m vae_core.evaluate CHECKPOINT --iw-samples K`, one row per model;
likelihood figures as mean ± standard error over the 500 validation digits.
"""

import argparse
import sys
from pathlib import Path

import vae_core
from vae_core.analysis.metrics import evaluate

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["vae-z2", "ae-z2", "kl-z2", "vae-z16", "ae-z16", "kl-z16"]


def fmt(v, spec=".1f"):
    return "—" if v is None or v != v or v in (float("inf"), float("-inf")) else format(v, spec)


def fmt_se(m: dict, key: str) -> str:
    """'151.4 ± 1.9', or '—' where the figure does not exist (an autoencoder's KL)."""
    value, se = fmt(m[key]), fmt(m.get(f"{key}_se"))
    return value if value == "—" or se == "—" else f"{value} ± {se}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--iw-samples", type=int, default=1000)
    args = p.parse_args(argv)
    val, train = vae_core.load_dataset("mnist5k", "val"), vae_core.load_dataset("mnist5k", "train")
    # grey CE: cross-entropy against the grey-level pixels, an upper bound on the expected binarised NLL
    k = args.iw_samples
    print(f"| model | recon, grey CE | KL | −ELBO, grey CE | IW-NLL, grey CE (K={k}) | active units | kNN acc |")
    print("|---|---|---|---|---|---|---|")
    for name in ORDER:
        model, meta = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{name}.safetensors")
        m = evaluate(model, val, train, iw_samples=args.iw_samples)
        print(
            f"| {name} | {fmt_se(m, 'recon')} | {fmt_se(m, 'kl')} | {fmt_se(m, 'neg_elbo')} | {fmt_se(m, 'nll_iw')} "
            f"| {m['active_units']}/{model.config.latent_dim} | {fmt(m['knn_accuracy'], '.1%')} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
