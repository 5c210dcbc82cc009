"""`python -m bench.folder`: reading a folder of 70,000 images, first time (decode) and second (cache).

Two folders are generated here (nothing downloaded), ten class sub-folders each:
  grey28   70,000 28x28 grey PNGs — Fashion-MNIST's own images when Debian's package is installed
           (a real image folder of the usual size), else drawn shapes
  colour64 70,000 64x64 colour JPEGs (quality 90): drawn shapes on noise
For each, `load_dataset("folder:PATH", "train")` runs in a fresh process with an empty cache
(first read: scan, decode in worker processes, write the cache) and then in another fresh
process (second read: scan and the cache, memory-mapped). Target: first read <= 60 s.
Writes bench/folder_results.json; `--keep DIR` keeps the generated folders there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "folder_results.json"
N = 70_000
CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from vae_core.data import load_dataset
t1 = time.perf_counter()
d = load_dataset(sys.argv[1], "train")
x = d.images[:256]
t2 = time.perf_counter()
try:  # stop the pool's fork server and reap it, so its workers' CPU time is counted below
    from multiprocessing import forkserver
    forkserver._forkserver._stop()
except Exception:
    pass
use = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "n_train": len(d), "shape": list(d.image_shape),
                  "note": d.note, "cpu_s": sum(u.ru_utime + u.ru_stime for u in use)}))
"""


def fashion_images() -> tuple[np.ndarray, np.ndarray] | None:
    try:
        from vae_core.data import load_dataset

        parts = [load_dataset("fashion", s) for s in ("train", "val", "test")]
    except Exception:
        return None
    x = np.concatenate([(p.images[:, 0].numpy() * 255).round().astype(np.uint8) for p in parts])
    return x, np.concatenate([p.labels.numpy() for p in parts])


def drawn(i: int, side: int, colour: bool, rng: np.random.Generator) -> np.ndarray:
    """A filled rectangle of a class-dependent colour at a random place, on noise."""
    c = i % 10
    shape = (side, side, 3) if colour else (side, side)
    a = rng.integers(0, 60, shape, dtype=np.uint8)
    x0, y0 = rng.integers(0, side // 2, 2)
    w = side // 4 + c
    a[y0 : y0 + w, x0 : x0 + w] = (40 + 20 * c, 255 - 20 * c, 128) if colour else 100 + 15 * c
    return a


def generate(folder: Path, kind: str) -> float:
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    fashion = fashion_images() if kind == "grey28" else None
    for c in range(10):
        (folder / f"class{c}").mkdir(parents=True, exist_ok=True)
    for i in range(N):
        if fashion is not None:
            img, label = Image.fromarray(fashion[0][i]), int(fashion[1][i])
            img.save(folder / f"class{label}" / f"{i:05d}.png")
        elif kind == "grey28":
            Image.fromarray(drawn(i, 28, False, rng)).save(folder / f"class{i % 10}" / f"{i:05d}.png")
        else:
            Image.fromarray(drawn(i, 64, True, rng)).save(folder / f"class{i % 10}" / f"{i:05d}.jpg", quality=90)
    return time.perf_counter() - t0


def read(folder: Path, cache: Path) -> dict:
    """One read in a fresh process: its figures, its wall time and the CPU time of its whole process
    tree (the decoding workers included, the imports too; the machine is shared, so wall time moves with its load)."""
    env = {**os.environ, "VAE_EXPLORER_CACHE": str(cache)}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", CHILD, f"folder:{folder}"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=3600)  # fmt: skip
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return {**json.loads(r.stdout.strip().splitlines()[-1]), "process_s": time.perf_counter() - t0}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.folder")
    p.add_argument("--keep", default=None, help="generate the folders here and keep them")
    p.add_argument("--only", nargs="+", default=["grey28", "colour64"], choices=["grey28", "colour64"])
    args = p.parse_args(argv)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-folder-"))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    try:
        for kind in args.only:
            folder, cache = base / kind, Path(tempfile.mkdtemp(prefix="bench-cache-"))
            made = generate(folder, kind) if not folder.exists() else None
            first, second = read(folder, cache), read(folder, cache)
            shutil.rmtree(cache, ignore_errors=True)
            results[kind] = {"images": N, "generate_s": made, "first": first, "second": second,
                             "cpus": len(os.sched_getaffinity(0)), "load_average": os.getloadavg()[0]}  # fmt: skip
            print(
                f"{kind}: first read {first['load_s']:.1f} s ({first['cpu_s']:.1f} s CPU in all, load average "
                f"{results[kind]['load_average']:.1f}), second {second['load_s']:.2f} s ({first['note']})"
            )
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
