"""Training throughput on one device: `python -m bench.run --only device --device cuda`.

Samples/s of our Trainer for the shipped recipe (784-512-256-16 ELU, 1-pixel shifts) and the
textbook net (784-400-20 ReLU), each at batch 128 and at a large batch, in fp32 and in the
precision "auto" picks there, with the share of the device's measured matmul peak in that
precision. Each measurement follows a one-epoch warm-up of the same configuration (CUDA
context, kernel selection, allocator), so it is the steady state. mnist5k is tiled to
`images` images so that a large batch still makes many steps per epoch.
"""

from __future__ import annotations

import time

import torch

LARGE_BATCH = 4096


def matmul_gflops(device: torch.device, dtype=torch.float32, n: int | None = None, reps: int = 10) -> float:
    """Measured GEMM throughput (n x n @ n x n) on the device, median of reps, in GFLOP/s."""
    n = n or (8192 if device.type == "cuda" else 2048)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    times = []
    for i in range(reps + 1):
        _sync(device)
        t0 = time.perf_counter()
        a @ b
        _sync(device)
        if i:  # the first call is the warm-up
            times.append(time.perf_counter() - t0)
    times.sort()
    return 2 * n**3 / times[len(times) // 2] / 1e9


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_flops_per_sample(model) -> float:
    """Forward multiply-adds of every Linear x 2 FLOPs, x 3 for forward + backward."""
    macs = sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))
    return 3 * 2 * macs


def nets():
    from vae_core.model.config import ModelConfig
    from vae_core.training.config import TrainConfig

    return {
        "recipe": (ModelConfig(latent_dim=16), TrainConfig().augment_shift),  # the recipe: the configs' defaults
        "textbook": (ModelConfig(latent_dim=20, hidden=(400,), activation="relu"), 0),
    }


def throughput(mcfg, shift: int, batch: int, precision: str, data, device, epochs: int) -> float:
    """Steady-state samples/s of the Trainer (after a one-epoch warm-up)."""
    from vae_core.model.mlp import VAE
    from vae_core.training.config import TrainConfig
    from vae_core.training.trainer import Trainer

    for n_epochs in (1, epochs):
        model = VAE(mcfg, generator=torch.Generator().manual_seed(0))
        cfg = TrainConfig(
            epochs=n_epochs, batch_size=batch, lr=1e-3, augment_shift=shift, precision=precision, film_frames=0
        )
        trainer = Trainer(model, cfg, data, device=device)
        trainer.run()
    return trainer.samples_per_s


def bench_device(device_name: str = "auto", epochs: int = 2, images: int = 45_000) -> dict:
    from dataclasses import replace

    from vae_core.data import load_dataset
    from vae_core.model.mlp import VAE
    from vae_core.training.device import describe, resolve_device, resolve_precision

    device = resolve_device(device_name)
    auto = resolve_precision("auto", device)
    precisions = ["fp32"] + ([auto] if auto != "fp32" else [])
    data = load_dataset("mnist5k", "train")
    reps = -(-images // len(data))
    data = replace(data, images=data.images.repeat(reps, 1, 1, 1)[:images], labels=data.labels.repeat(reps)[:images])
    peak = {p: matmul_gflops(device, torch.bfloat16 if p == "bf16" else torch.float32) for p in precisions}
    runs = []
    for name, (mcfg, shift) in nets().items():
        flops = train_flops_per_sample(VAE(mcfg))
        for batch in (128, LARGE_BATCH):
            for precision in precisions:
                sps = throughput(mcfg, shift, batch, precision, data, device, epochs)
                runs.append({"net": name, "batch": batch, "precision": precision, "samples_per_s": sps,
                             "share_of_peak": sps * flops / (peak[precision] * 1e9)})  # fmt: skip
    return {"device": describe(device), "auto_precision": auto, "images": images, "peak_gflops": peak, "runs": runs}
