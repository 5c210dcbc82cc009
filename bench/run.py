"""The benchmark suite: `python -m bench.run` (or `make bench`). Prints a table, writes
bench/results.json. Timings are reported against targets, never asserted: a slow machine
gives a slow number, not a red build.

Each measurement that needs a cold process (page loads, UMAP's compilation, the in-app
retrain, peak memory) runs in a fresh subprocess, so caches and imports do not leak in.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"


def child(code: str, timeout: int = 900) -> dict:
    """Run `code` in a fresh interpreter at the repo root; it prints one JSON line last."""
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def matmul_gflops(n: int = 2048, reps: int = 10, dtype=torch.float32) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def train_flops_per_sample(model) -> float:
    """Forward multiply-adds of every Linear x 2 FLOPs, x 3 for forward + backward."""
    macs = sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))
    return 3 * 2 * macs


def bench_training(epochs: int, repeats: int = 3) -> dict:
    """Textbook loop vs our Trainer on the same net and batch, interleaved `repeats` times so
    both see the same machine (a shared VM drifts by 30 %); medians are reported."""
    from bench import textbook
    from vae_core.data import load_dataset
    from vae_core.model.config import ModelConfig
    from vae_core.model.mlp import VAE
    from vae_core.training.config import TrainConfig
    from vae_core.training.trainer import Trainer

    data = load_dataset("mnist5k", "train")
    images = (data.images[:, 0] * 255).round().to(torch.uint8).numpy()
    same = ModelConfig(latent_dim=20, hidden=(400,), activation="relu")
    runs = {"textbook": [], "ours": [], "ours_bf16": [], "gflops": [], "gflops_bf16": []}
    for _ in range(repeats):
        runs["textbook"].append(textbook.train(images, data.labels.numpy(), epochs))
        model = VAE(same, generator=torch.Generator().manual_seed(0))
        fp32 = TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, schedule="constant", precision="fp32")
        trainer = Trainer(model, fp32, data)
        trainer.run()
        runs["ours"].append(trainer.samples_per_s)
        model16 = VAE(same, generator=torch.Generator().manual_seed(0))
        cfg16 = TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, schedule="constant", precision="bf16")
        t16 = Trainer(model16, cfg16, data)
        t16.run()
        runs["ours_bf16"].append(t16.samples_per_s)
        runs["gflops"].append(matmul_gflops())
        runs["gflops_bf16"].append(matmul_gflops(dtype=torch.bfloat16))
    tb, ours, ours16, gflops, gflops16 = (
        statistics.median(runs[k]) for k in ("textbook", "ours", "ours_bf16", "gflops", "gflops_bf16")
    )
    recipe = VAE(ModelConfig(), generator=torch.Generator().manual_seed(0))  # the recipe: the configs' defaults
    cfg = TrainConfig(
        epochs=epochs,
        precision="fp32",
    )
    t = Trainer(recipe, cfg, data)
    t.run()
    return {
        "textbook_samples_per_s": tb,
        "ours_same_net_samples_per_s": ours,
        "speedup_vs_textbook": ours / tb,
        "matmul_gflops": gflops,
        "ours_same_net_fraction_of_matmul": ours * train_flops_per_sample(model) / (gflops * 1e9),
        "ours_bf16_samples_per_s": ours16,
        "speedup_bf16_vs_textbook": ours16 / tb,
        "matmul_gflops_bf16": gflops16,
        "ours_bf16_fraction_of_bf16_matmul": ours16 * train_flops_per_sample(model) / (gflops16 * 1e9),
        "ours_recipe_samples_per_s": t.samples_per_s,
        "ours_recipe_fraction_of_matmul": t.samples_per_s * train_flops_per_sample(recipe) / (gflops * 1e9),
        "runs": runs,
    }


def bench_textbook_quality(epochs: int = 10) -> dict:
    """The tutorial's model after its 10 epochs on mnist5k, scored on our validation split."""
    from bench import textbook
    from vae_core.data import load_dataset

    train, val = load_dataset("mnist5k", "train"), load_dataset("mnist5k", "val")
    images = (train.images[:, 0] * 255).round().to(torch.uint8).numpy()
    _, model = textbook.train(images, train.labels.numpy(), epochs, return_model=True)
    return {"epochs": epochs, "val_neg_elbo": textbook.neg_elbo(model, val.images)}


def peak_rss_mb_snippet() -> str:
    """Code for a child: its own peak RSS. (getrusage's ru_maxrss survives exec on Linux and
    would report the parent's peak; VmHWM belongs to the new address space.)"""
    return "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024"


PAGE_CHILD = """
import json, time
t0 = time.perf_counter()
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("explorer.py", default_timeout=600)
at.run()
stem, page = {stem!r}, {page!r}
if stem:  # choose the model in the sidebar, as a user does (its data come with it)
    box = at.sidebar.selectbox(key="model")
    box.select_index(next(i for i, o in enumerate(box.options) if f"— {stem} ·" in o)).run()
if page != "views/latent_map.py":
    at.switch_page(page).run()
cold = time.perf_counter() - t0
assert not at.exception, [e.message for e in at.exception]
warm = []
for _ in range(3):
    t1 = time.perf_counter(); at.run(); warm.append(time.perf_counter() - t1)
print(json.dumps({{"cold_s": cold, "warm_s": sorted(warm)[1]}}))
"""


def bench_pages(stem: str = "") -> dict:
    """Every page in a fresh process: cold (imports, data, codes, maps) and warm reruns.
    `stem` picks a model first (default: the app's own, vae-z2 on mnist5k's 4,500 images)."""
    from ui.frame.pages import VIEW_FILES

    return {Path(p).stem: child(PAGE_CHILD.format(page=p, stem=stem)) for p in VIEW_FILES}


def bench_slider() -> dict:
    """The work of one slider move in the Traverse fragment: decode z, render the PNG."""
    import vae_core
    from ui import figures

    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z16.safetensors")
    z = torch.zeros(1, 16)
    times = []
    for i in range(200):
        z[0, 0] = (i % 40) / 10 - 2
        t0 = time.perf_counter()
        with torch.inference_mode():
            image = model.decode(z)
        figures.to_pil(image[0], 280).tobytes()
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"fragment_work_median_ms": 1000 * times[len(times) // 2], "fragment_work_p95_ms": 1000 * times[190]}


PROJ_CHILD = """
import json, time, numpy as np, tempfile, shutil
from pathlib import Path
import vae_core
from vae_core.model.estimators import encode_all
from vae_core.analysis.projection import fit_projection, project
out = {}
t0 = time.perf_counter(); import umap; fit_projection(np.random.default_rng(0).normal(size=(300, 16)), "umap")
out["umap_first_call_incl_compile_s"] = time.perf_counter() - t0
model, _ = vae_core.load_checkpoint("checkpoints/vae-z16.safetensors")
codes = encode_all(model, vae_core.load_dataset("mnist5k", "train").images)[0].numpy()
tmp = Path(tempfile.mkdtemp()); ckpt = tmp / "m.safetensors"; shutil.copy("checkpoints/vae-z16.safetensors", ckpt)
for method in ("pca", "tsne", "umap"):
    t0 = time.perf_counter(); project(codes, method, checkpoint=ckpt, data_key="bench", cache_dir=tmp / "cache"); out[method + "_cold_s"] = time.perf_counter() - t0
    t0 = time.perf_counter(); project(codes, method, checkpoint=ckpt, data_key="bench", cache_dir=tmp / "cache"); out[method + "_cached_s"] = time.perf_counter() - t0
shutil.rmtree(tmp)
print(json.dumps(out))
"""

RETRAIN_CHILD = """
import json, resource, time
import vae_core
from vae_core.runs.jobs import JobManager
from vae_core.model.config import ModelConfig
from vae_core.training.config import TrainConfig
import tempfile, pathlib
out_path = pathlib.Path(tempfile.mkdtemp()) / "retrain.safetensors"
manager = JobManager()
t0 = time.perf_counter()
job = manager.submit(ModelConfig(latent_dim=16), TrainConfig(epochs={epochs}), "mnist5k", out_path)
snap = manager.wait(job.id)
wall = time.perf_counter() - t0
assert snap["state"] == "done", snap["message"]
_, meta = vae_core.load_checkpoint(out_path)
_, shipped = vae_core.load_checkpoint("checkpoints/vae-z16.safetensors")
print(json.dumps({{"epochs": {epochs}, "wall_s": wall, "peak_rss_mb": PEAK,
                  "val_neg_elbo": meta["metrics"]["neg_elbo"], "shipped_val_neg_elbo": shipped["metrics"]["neg_elbo"]}}))
"""

JOBS_CHILD = """
import json, tempfile, time, pathlib
from streamlit.testing.v1 import AppTest
from vae_core.runs.jobs import JobManager
from vae_core.model.config import ModelConfig
from vae_core.training.config import TrainConfig

def render():
    t0 = time.perf_counter(); at.run(); assert not at.exception; return time.perf_counter() - t0

at = AppTest.from_file("explorer.py", default_timeout=600)
at.run(); at.switch_page("views/traverse.py").run()
idle = sorted(render() for _ in range(5))[2]
tmp = pathlib.Path(tempfile.mkdtemp())
manager = JobManager()
cfg = ModelConfig(latent_dim=16)
a = manager.submit(cfg, TrainConfig(epochs=500), "mnist5k", tmp / "a.safetensors")
b = manager.submit(cfg, TrainConfig(epochs=500), "mnist5k", tmp / "b.safetensors")  # a second tab's job
while manager.snapshot(a.id)["state"] != "running":
    time.sleep(0.01)
time.sleep(1.0)
busy = sorted(render() for _ in range(5))[2]
queued_message = manager.snapshot(b.id)["message"]
t0 = time.perf_counter(); manager.cancel(a.id); manager.wait(a.id); cancel_s = time.perf_counter() - t0
manager.cancel(b.id); manager.wait(b.id)
print(json.dumps({"traverse_render_idle_s": idle, "traverse_render_while_training_s": busy,
                  "second_job_message": queued_message, "cancel_latency_s": cancel_s,
                  "files_left": [p.name for p in tmp.iterdir()]}))
"""

IW_CHILD = """
import json, resource, time, torch
import vae_core
from vae_core.model.estimators import iw_nll_per_image
model, _ = vae_core.load_checkpoint("checkpoints/vae-z16.safetensors")
x = torch.cat([vae_core.load_dataset("mnist5k", "val").images, vae_core.load_dataset("mnist5k", "train").images])[:{n}]
base = PEAK
t0 = time.perf_counter()
nll = iw_nll_per_image(model, x, k={k}).mean().item()
print(json.dumps({{"k": {k}, "n": len(x), "s": time.perf_counter() - t0, "nll_iw": nll,
                  "peak_rss_mb": PEAK, "rss_before_mb": base}}))
"""


def with_peak(code: str) -> str:
    return code.replace("PEAK", peak_rss_mb_snippet())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run")
    p.add_argument("--epochs", type=int, default=3, help="epochs per throughput measurement")
    p.add_argument("--retrain-epochs", type=int, default=60, help="the app's default retrain")
    p.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="training textbook_quality pages pages_fashion slider projections retrain jobs iw device onnx",
    )
    p.add_argument("--device", default="auto", help="the device section's device: auto, cpu, cuda, mps")
    args = p.parse_args(argv)
    from bench.device import bench_device
    from bench.onnx import bench_onnx

    sections = {
        "training": lambda: bench_training(args.epochs),
        "textbook_quality": bench_textbook_quality,
        "pages": bench_pages,
        "pages_fashion": lambda: bench_pages("fashion-vae-z2"),  # the same pages on 54,000 images
        "slider": bench_slider,
        "projections": lambda: child(PROJ_CHILD),
        "retrain": lambda: child(with_peak(RETRAIN_CHILD.format(epochs=args.retrain_epochs))),
        "jobs": lambda: child(JOBS_CHILD),
        "iw": lambda: {
            "k1000_n1000": child(with_peak(IW_CHILD.format(k=1000, n=1000))),
            "k5000_n200": child(with_peak(IW_CHILD.format(k=5000, n=200))),
        },
        "device": lambda: bench_device(args.device),
        "onnx": bench_onnx,  # an ONNX model folder against the same checkpoint (bench/onnx.py)
    }
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() and args.only else {}
    results["machine"] = {
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }
    for name, fn in sections.items():
        if args.only and name not in args.only:
            continue
        print(f"… {name}", file=sys.stderr, flush=True)
        results[name] = fn()
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    from bench.report import table

    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
