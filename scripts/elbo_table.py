"""The README's "ELBO of one image" figures: two example digits, and exact -log p(x) on 500 digits.

    python -m scripts.elbo_table [--digits 0 1] [--n 500] [--seed 0]

1. For validation digits `--digits` of mnist5k, with vae-z2, kl-z2 (exact, by quadrature) and
   vae-z16 (log p(x) by the importance-weighted bound with K = 8,000, a lower bound): every term
   of the identity log p(x) = E_q[log p(x|z)] − KL(q ‖ p(z)) + approximation gap + amortisation gap,
   and how much noisier the score-function gradient is than the reparameterised one.
2. Over the first `--n` validation digits, for the z = 2 models: exact -log p(x) next to the IW-NLL
   (K = 1000, the README results table's estimator) and the exact -ELBO, mean ± standard error,
   and the mean gap split into its two parts (Cremer et al. 2018).
All in nats per image: the Bernoulli decoder's cross-entropy likelihood of grey-level pixels.
"""

import argparse
import math
import sys
import time
from pathlib import Path

import torch

import vae_core
from vae_core.analysis.elbo import ElboSettings, elbo_report
from vae_core.model.estimators import iw_nll_per_image

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_MODELS = ["vae-z2", "kl-z2", "vae-z16"]
AVERAGE_MODELS = ["vae-z2", "kl-z2"]
LEAN = ElboSettings(samples=1, curve_ns=(1, 2), curve_repeats=2, gradient_ns=(2,), gradient_repeats=2)


def load(name):
    return vae_core.load_checkpoint(ROOT / "checkpoints" / f"{name}.safetensors")[0]


def mean_se(values) -> str:
    v = torch.as_tensor(values, dtype=torch.float64)
    return f"{v.mean():.2f} ± {v.std() / math.sqrt(len(v)):.2f}"


def examples(val, digits, seed: int) -> None:
    print("| model | digit | −log p(x) | −ELBO | −E_q[log p(x|z)] | KL(q‖p(z)) | gap = KL(q‖p(z|x)) "
          "| approximation | amortisation | score/reparam. variance (μ, log σ²) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in EXAMPLE_MODELS:
        model = load(name)
        for i in digits:
            r = elbo_report(model, val.images[i], seed=seed)
            how = "" if r.exact else " (IW)"
            ratio = " · ".join(f"{v:,.0f}" for v in r.gradients.ratio)
            print(
                f"| {name} | {i} (a {val.labels[i].item()}) | {-r.log_px:.2f}{how} | {-r.elbo:.2f} "
                f"| {-r.expected_log_lik:.2f} | {r.kl_prior:.2f} | {r.gap:.2f} | {r.approximation_gap:.2f} "
                f"| {r.amortisation_gap:.2f} | {ratio} |",
                flush=True,
            )


def averages(val, n: int, seed: int) -> None:
    print(f"\n| model ({n} digits) | exact −log p(x) | IW-NLL (K=1000) | −ELBO | gap | approximation | amortisation |")
    print("|---|---|---|---|---|---|---|")
    x = val.images[:n]
    for name in AVERAGE_MODELS:
        model = load(name)
        exact = vae_core.exact_nll(model, x)
        iw = iw_nll_per_image(model, x, 1000, seed=seed)
        reports = [elbo_report(model, x[i], seed=seed, settings=LEAN) for i in range(n)]
        parts = {k: [getattr(r, k) for r in reports] for k in ("elbo", "gap", "approximation_gap", "amortisation_gap")}
        cells = [mean_se(exact), mean_se(iw), mean_se([-e for e in parts["elbo"]])]
        cells += [mean_se(parts[k]) for k in ("gap", "approximation_gap", "amortisation_gap")]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--digits", type=int, nargs="+", default=[1, 54], help="mnist5k validation indices (sorted by class, 50 each)"
    )
    p.add_argument("--n", type=int, default=500, help="validation digits averaged over")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    val = vae_core.load_dataset("mnist5k", "val")
    started = time.perf_counter()
    examples(val, args.digits, args.seed)
    averages(val, min(args.n, len(val)), args.seed)
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
