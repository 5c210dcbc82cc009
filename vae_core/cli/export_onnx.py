"""`python -m vae_core.export_onnx CHECKPOINT OUT_DIR`: one of our checkpoints as an ONNX model
folder (vae_core.io.onnx_export), checked by loading it back before it is put in place.

The JSON line gives the files' sizes and the largest difference between the checkpoint and the
ONNX folder on a fixed batch of real-looking inputs (codes, images in [0, 1], logits); a folder
whose codes or images differ by more than TOLERANCE is not written.
"""

from __future__ import annotations

import argparse
import time

from .common import OneLineParser, emit_json, fail, run_until_sigterm

TOLERANCE = 1e-5  # codes and images (probabilities); logits are compared relative to their size


def parse_args(argv=None) -> argparse.Namespace:
    p = OneLineParser(prog="python -m vae_core.export_onnx", description="Export a checkpoint to an ONNX model folder.")
    p.add_argument("checkpoint", help="a vae_core .safetensors checkpoint")
    p.add_argument("out_dir", help="the model folder to write (encoder.onnx, decoder.onnx, model.json)")
    p.add_argument("--name", default=None, help="the name shown in the picker (default: the folder's name)")
    return p.parse_args(argv)


def differences(model, onnx_model, n: int = 64) -> dict:
    """Largest absolute differences on a fixed batch: n seeded images and their codes."""
    import torch

    x = torch.rand((n, *model.config.image_shape), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        a, b = model.encode(x), onnx_model.encode(x)
        logits_a, logits_b = model.decode_logits(a.mean), onnx_model.decode_logits(a.mean)
        out = {
            "mean": (a.mean - b.mean).abs().max().item(),
            "images": (logits_a.sigmoid() - logits_b.sigmoid()).abs().max().item(),
        }
        if not a.deterministic:
            out["logvar"] = (a.logvar - b.logvar).abs().max().item()
        out["logits_relative"] = ((logits_a - logits_b).abs() / (1 + logits_a.abs())).max().item()
    return out


def main(argv=None) -> int:
    return run_until_sigterm(_main, argv)


def _main(argv) -> int:
    try:
        args = parse_args(argv)
        from pathlib import Path

        from ..io.checkpoint import load_checkpoint
        from ..io.onnx_export import export_onnx

        start = time.perf_counter()
        model, meta = load_checkpoint(args.checkpoint)
        if meta.get("format") == "onnx":
            raise ValueError(f"{args.checkpoint} is an ONNX model folder already.")
        found = {}

        def verify(folder):
            found.update(differences(model, load_checkpoint(folder)[0]))
            worst = max(found["mean"], found.get("logvar", 0.0), found["images"], found["logits_relative"])
            if worst > TOLERANCE:
                raise ValueError(
                    f"the ONNX graphs differ from the checkpoint by {worst:.2g} (> {TOLERANCE:g}); nothing written."
                )

        out = export_onnx(model, {**meta, "source": Path(args.checkpoint).name}, args.out_dir, args.name, verify)
    except (ValueError, RuntimeError, OSError) as e:
        return fail(e)
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
    emit_json(
        {"out": str(out), "files": sizes, "max_abs_diff": found, "seconds": round(time.perf_counter() - start, 2)}
    )
    return 0
