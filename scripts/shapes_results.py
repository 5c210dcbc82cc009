"""Measure the shipped `shapes` models: their −ELBO and what each latent dimension encodes.

    python -m scripts.shapes_results [--images 10000] [--iw-images 1000] [--iw-samples 100]

For each checkpoints/shapes/*.safetensors, on a fixed random subset of the 73,728 held-out
images (the validation split): the −ELBO terms with standard errors, the IW-NLL with K samples on
a smaller subset, active units, and per active latent dimension the R² of its posterior mean
explained by each true factor (vae_core.analysis.factors). Binary images and a Bernoulli decoder:
the nats are a true negative log-likelihood of the 64x64 binary image. Writes
bench/shapes_results.json and prints the README's markdown tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "shapes_results.json"
FOLDER = ROOT / "checkpoints" / "shapes"
FACTORS = ("shape", "scale", "orientation", "pos_x", "pos_y")


def measure(path: Path, n_images: int, iw_images: int, iw_samples: int) -> dict:
    import torch

    import vae_core
    from vae_core.analysis.factors import factor_r2
    from vae_core.analysis.metrics import active_units, mean_se
    from vae_core.model.estimators import elbo_per_image, encode_all, iw_nll_per_image
    from vae_core.model.losses import gaussian_kl

    torch.set_num_threads(1)
    model, meta = vae_core.load_checkpoint(path)
    val = vae_core.load_dataset("shapes", "val").subset(n_images, seed=0)
    x = val.images[:]
    t0 = time.perf_counter()
    recon, kl = elbo_per_image(model, x, seed=0, batch_size=500)
    nll = iw_nll_per_image(model, x[:iw_images], iw_samples, seed=0, chunk=5_000)
    means, logvars = encode_all(model, x, batch_size=500)
    kl_dim = gaussian_kl(means, logvars).mean(0)
    r2 = factor_r2(means.numpy(), {k: val.factors[k].numpy() for k in FACTORS})
    out = {"name": path.stem, "n": len(x), "iw_images": iw_images, "iw_samples": iw_samples}
    for name, values in (("recon", recon), ("kl", kl), ("neg_elbo", recon + kl), ("nll_iw", nll)):
        out[name], out[f"{name}_se"] = mean_se(values)
    out["active_units"] = active_units(means)
    out["dims"] = [
        {"dim": j, "kl": float(kl_dim[j]), **{k: float(r2[k][j]) for k in FACTORS}}
        for j in torch.argsort(kl_dim, descending=True).tolist()
    ]
    out["eval_seconds"] = time.perf_counter() - t0
    out["file_bytes"] = path.stat().st_size
    for key in ("samples_per_s", "train_seconds", "wall_seconds", "n_train"):
        out[key] = meta.get(key)
    out["beta"] = meta["model_config"]["beta"]
    out["epochs"] = meta["train_config"]["epochs"]
    return out


def tables(rows: list[dict]) -> str:
    lines = [
        f"| model | β | recon | KL | −ELBO | IW-NLL (K={rows[0]['iw_samples']}) | active units | training (wall) "
        "| samples/s | file |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        hours = (r["wall_seconds"] or 0) / 3600
        lines.append(
            f"| {r['name']} | {r['beta']:g} | {r['recon']:.1f} ± {r['recon_se']:.1f} | {r['kl']:.1f} | "
            f"{r['neg_elbo']:.1f} ± {r['neg_elbo_se']:.1f} | {r['nll_iw']:.1f} ± {r['nll_iw_se']:.1f} | "
            f"{r['active_units']}/10 | {hours:.1f} h | {r['samples_per_s']:.0f} | {r['file_bytes'] / 2**20:.1f} MB |"
        )
    for r in rows:
        title = (
            f"{r['name']}: R² of each active dimension's mean explained by each factor"
            " (KL in nats; z1..z10 as the app names them)"
        )
        lines += ["", title, ""]
        lines += ["| dim | KL | " + " | ".join(FACTORS) + " |", "|---" * (len(FACTORS) + 2) + "|"]
        for d in r["dims"]:
            if d["kl"] < 0.01:
                continue
            best = max(FACTORS, key=lambda k: d[k])
            cells = [f"**{d[k]:.2f}**" if k == best else f"{d[k]:.2f}" for k in FACTORS]
            lines.append(f"| z{d['dim'] + 1} | {d['kl']:.2f} | " + " | ".join(cells) + " |")  # z1..zD, as the app
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.shapes_results")
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--iw-images", type=int, default=1_000)
    p.add_argument("--iw-samples", type=int, default=100)
    args = p.parse_args(argv)
    paths = sorted(FOLDER.glob("*.safetensors"))
    if not paths:
        print(f"no models in {FOLDER}; run scripts/train_shapes.sh", file=sys.stderr)
        return 1
    rows = [measure(path, args.images, args.iw_images, args.iw_samples) for path in paths]
    OUT.write_text(json.dumps(rows, indent=1) + "\n")
    print(tables(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
