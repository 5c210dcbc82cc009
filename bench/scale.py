"""The first encoding of a big dataset, as the app does it: `python -m bench.scale`.

Generates synthetic:N (N MNIST-style digits, vae_core.data.synthetic) if it is not on disk,
then encodes it with a shipped model in batches with a progress bar, through the same
content-addressed code cache the app reads ($VAE_EXPLORER_CACHE/codes), and prints one JSON
line: generation and encoding seconds, images per second, peak memory. A second run reads the
codes back (the "from cache" figure). --fit also times the app's t-SNE / UMAP of those codes
(vae_core.analysis.manifold: fitted on a subsample, every other code placed), stage by stage.

    python -m bench.scale --n 1000000 --model vae-z2 [--fit tsne umap]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="images to generate and encode")
    ap.add_argument("--model", default="vae-z2", help="a shipped checkpoint's stem")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--fit", nargs="*", default=[], choices=["tsne", "umap"], help="time these maps of the codes")
    args = ap.parse_args(argv)
    import torch
    from tqdm import tqdm

    import vae_core
    from vae_core.analysis.encoding import encode_cached
    from vae_core.io.projection_cache import file_digest

    if args.threads:
        torch.set_num_threads(args.threads)
    cache = Path(os.environ.get("VAE_EXPLORER_CACHE") or Path.home() / ".cache" / "vae-explorer")
    ckpt = ROOT / "checkpoints" / f"{args.model}.safetensors"
    model, _ = vae_core.load_checkpoint(ckpt)
    t0 = time.perf_counter()
    data = vae_core.load_dataset(f"synthetic:{args.n}")
    generated_s = time.perf_counter() - t0
    bar = tqdm(total=len(data), unit="img", unit_scale=True, desc=f"encoding with {args.model}")

    def progress(done, total):
        bar.update(done - bar.n)

    t0 = time.perf_counter()
    mean, _ = encode_cached(model, data, file_digest(ckpt), cache / "codes", progress=progress)
    encode_s = time.perf_counter() - t0
    bar.close()
    t0 = time.perf_counter()
    encode_cached(model, data, file_digest(ckpt), cache / "codes")
    read_s = time.perf_counter() - t0
    out = {
        "n": len(data),
        "model": args.model,
        "generate_or_read_s": round(generated_s, 2),
        "encode_s": round(encode_s, 2),
        "images_per_s": round(len(data) / encode_s) if bar.n else None,
        "encoded_now": bool(bar.n),
        "codes_from_cache_s": round(read_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg()[0],
    }
    for method in args.fit:
        out[method] = time_fit(mean, method)
    print(json.dumps(out))


def time_fit(codes, method: str) -> dict:
    """Seconds of each stage of the app's fit of `method` (a subsample fitted, the rest placed)."""
    from vae_core.analysis import manifold, projection

    last = {}  # stage -> when it last reported: "place" reports only after its first chunk

    def progress(stage, done, total):
        last[stage] = time.perf_counter()

    t0 = time.perf_counter()
    projection.fit_projection(codes, method, progress=progress)
    total = time.perf_counter() - t0
    fit_s = last.get("fit", t0 + total) - t0
    return {
        "fitted": min(len(codes), manifold.FIT_MAX[method]),
        "fit_s": round(fit_s, 1),
        "place_s": round(total - fit_s, 1),
        "total_s": round(total, 1),
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    main()
