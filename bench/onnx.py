"""ONNX model folders against our checkpoints: `python -m bench.onnx` (also `bench.run --only onnx`).

The same model twice (the shipped vae-z16 and its export checkpoints/onnx/vae-z16-onnx): load
time in a fresh process (imports included, then the load alone), encode and decode throughput
on mnist5k's 4,500 training images in batches of 1,000 (what the map's codes cost), the latency
of decoding one code (a slider move or the pointer, server side) and of the IW bound's
[K, B, D] decode. Medians of interleaved repeats; reported, never asserted.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

CHILD = """
import json, time
t0 = time.perf_counter()
import vae_core
from vae_core.io.checkpoint import load_checkpoint
t1 = time.perf_counter()
load_checkpoint({path!r})
t2 = time.perf_counter()
t3 = time.perf_counter()
load_checkpoint({path!r})
print(json.dumps({{"import_s": t1 - t0, "first_load_s": t2 - t1, "second_load_s": time.perf_counter() - t3}}))
"""


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up: allocations, onnxruntime's first-run planning
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_onnx(repeats: int = 5) -> dict:
    import torch

    import vae_core
    from bench.run import ROOT, child
    from vae_core.model.estimators import encode_all

    paths = {"torch": ROOT / "checkpoints/vae-z16.safetensors", "onnx": ROOT / "checkpoints/onnx/vae-z16-onnx"}
    out = {name: {"load": child(CHILD.format(path=str(p)))} for name, p in paths.items()}
    models = {name: vae_core.load_checkpoint(p)[0] for name, p in paths.items()}
    x = vae_core.load_dataset("mnist5k", "train").images
    z = torch.randn(len(x), 16, generator=torch.Generator().manual_seed(0))
    one = torch.zeros(1, 16)
    iw = torch.randn(100, 200, 16, generator=torch.Generator().manual_seed(0))  # K=100 samples of 200 images
    with torch.inference_mode():
        for name, m in models.items():
            t_enc = _median_time(lambda m=m: encode_all(m, x), repeats)
            t_dec = _median_time(lambda m=m: [m.decode(z[i : i + 1000]) for i in range(0, len(z), 1000)], repeats)
            t_one = _median_time(lambda m=m: m.decode(one), 50 * repeats)
            t_iw = _median_time(lambda m=m: m.decode_logits(iw), repeats)
            out[name] |= {
                "encode_images_per_s": len(x) / t_enc,
                "decode_codes_per_s": len(z) / t_dec,
                "decode_one_ms": 1000 * t_one,
                "decode_iw_100x200_s": t_iw,
            }
    out["threads"] = {"torch": torch.get_num_threads(), "onnxruntime_intra_op": _ort_threads()}
    return out


def _ort_threads() -> int:
    import os

    from vae_core.model.onnx_vae import MAX_THREADS

    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


if __name__ == "__main__":
    print(json.dumps(bench_onnx(), indent=2))
    sys.exit(0)
