"""Our models written as ONNX model folders ("vae-explorer-onnx/1", vae_core.model.onnx_config).

Each half is exported with torch.onnx.export (the torch.export-based exporter; it needs
onnxscript) at EXPORT_OPSET with a dynamic batch axis and the weights inside the file (no
external data), so the same bytes load here and in onnxruntime-web. The encoder gives `mean` and
`logvar` (the autoencoder's `mean` alone), the decoder `logits` (before the sigmoid).

A weight tensor whose every value is exactly a float16 (a checkpoint stored in float16, as the
shipped ones are) is stored in float16 again, with a Cast to float32 in the graph: lossless by
construction, and half the bytes to ship and to send to a browser. Others stay float32.

The folder appears whole or not at all: written into a hidden temporary folder beside it, checked
by loading it (`verify`), then renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..model.onnx_config import DECODER, ENCODER, MANIFEST, OnnxConfig
from .atomic import fsync_dir, host_tag, remove_stale_temps
from .onnx_folder import is_model_folder

EXPORT_OPSET = (
    18  # the torch.export-based exporter's own opset (no version conversion); onnxruntime-web >= 1.14 runs it
)
EXAMPLE_BATCH = 3  # traced with 3 rows (not 1: a size-1 axis would be specialised), exported with a dynamic one
DECODER_INPUT, DECODER_OUTPUT = "z", "logits"  # the decoder graph's tensor names (the format's defaults)


class _Encoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, images):
        post = self.model.encode(images)
        return (post.mean,) if self.model.config.kind == "ae" else (post.mean, post.logvar)


class _Decoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, z):
        return self.model.decode_logits(z)


def onnx_config(model, meta: dict, name: str) -> OnnxConfig:
    """The manifest of our model: its config, dataset and a line saying where it came from."""
    cfg = model.config
    return OnnxConfig(
        name=name,
        image_shape=tuple(cfg.image_shape),
        latent_dim=cfg.latent_dim,
        decoder_output="logits",
        likelihood=cfg.likelihood,
        dataset=str(meta.get("dataset") or "mnist5k"),
        kind=cfg.kind,
        beta=cfg.beta,
        sigma_dec=cfg.sigma_dec,
        description=str(meta.get("description") or f"Exported by vae_core from {meta.get('source', 'a checkpoint')}.")[
            :2000
        ],
    )


def graph_bytes(module: nn.Module, example: torch.Tensor, inputs: list[str], outputs: list[str]) -> bytes:
    """One half as ONNX bytes: dynamic batch, weights inside, float16-stored weights where lossless."""
    import onnx

    batch = torch.export.Dim("batch", min=1)
    program = torch.onnx.export(
        module.eval(),
        (example,),
        input_names=inputs,
        output_names=outputs,
        dynamic_shapes=({0: batch},),
        opset_version=EXPORT_OPSET,
        dynamo=True,
        external_data=False,
        optimize=True,
        verbose=False,
    )
    proto = program.model_proto
    _store_float16(proto)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def _store_float16(proto) -> None:
    """Float32 initializers whose every value is exactly a float16 are stored as float16 and cast
    back in the graph (onnxruntime folds the Cast at load): the same numbers, half the bytes."""
    from onnx import TensorProto, helper, numpy_helper

    casts, kept = [], []
    for t in proto.graph.initializer:
        a = numpy_helper.to_array(t) if t.data_type == TensorProto.FLOAT else None
        if a is None or a.size < 64 or not np.array_equal(a.astype(np.float16).astype(np.float32), a):
            kept.append(t)
            continue
        half = numpy_helper.from_array(a.astype(np.float16), f"{t.name}.float16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [t.name], to=TensorProto.FLOAT))
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(kept)
    nodes = casts + list(proto.graph.node)
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)


def decoder_bytes(model) -> bytes:
    """The decoder of one of our models as ONNX bytes, exactly as export_onnx writes decoder.onnx:
    input "z" float32 [N, D] -> output "logits" float32 [N, C, H, W] (before the sigmoid). What
    the app's browser runs for a decoder its own JavaScript cannot (ui.livemap, kind "onnx")."""
    model = model.cpu().eval()
    z = torch.randn(EXAMPLE_BATCH, model.config.latent_dim, generator=torch.Generator().manual_seed(0))
    return graph_bytes(_Decoder(model), z, [DECODER_INPUT], [DECODER_OUTPUT])


APART_TIMEOUT_S = 600  # an export in its own process: a few seconds here, bounded


def decoder_bytes_apart(checkpoint, timeout_s: float = APART_TIMEOUT_S) -> bytes:
    """decoder_bytes of a checkpoint, computed in a fresh Python process. torch.onnx.export traces
    under a FakeTensorMode whose state other threads' torch calls see: a page computing beside an
    export in the same server failed with "fake_mode.in_kernel_invocation must be False". The app
    exports for browsers this way; ValueError with one line when it fails or runs out of time."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]  # the folder holding vae_core/
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "decoder.onnx"
        cmd = [sys.executable, "-m", "vae_core.io.onnx_export", str(checkpoint), str(out)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
        try:
            done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise ValueError(f"exporting the decoder to ONNX took over {timeout_s:.0f} s.") from None
        if done.returncode != 0 or not out.is_file():
            last = (done.stderr.strip().splitlines() or ["no message"])[-1][:300]
            raise ValueError(f"the decoder could not be exported to ONNX ({last}).")
        return out.read_bytes()


def export_onnx(model, meta: dict, out_dir, name: str | None = None, verify=None) -> Path:
    """Write `model` as the ONNX model folder `out_dir`; `verify(tmp_folder)` runs before it is
    renamed into place (raise to abandon it). An existing model folder there is replaced; any
    other existing non-empty path is refused."""
    out = Path(out_dir)
    _check_destination(out)
    model = model.cpu().eval()
    cfg = onnx_config(model, meta, name or out.name)
    images = torch.rand((EXAMPLE_BATCH, *cfg.image_shape), generator=torch.Generator().manual_seed(0))
    z = torch.randn(EXAMPLE_BATCH, cfg.latent_dim, generator=torch.Generator().manual_seed(0))
    enc_out = ["mean"] if cfg.point_mass else ["mean", "logvar"]
    files = {
        ENCODER: graph_bytes(_Encoder(model), images, ["images"], enc_out),
        DECODER: graph_bytes(_Decoder(model), z, [DECODER_INPUT], [DECODER_OUTPUT]),
        MANIFEST: (json.dumps(cfg.manifest(), indent=2) + "\n").encode(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}-{host_tag()}-", suffix=".tmp", dir=out.parent))
    try:
        for file, blob in files.items():
            with open(tmp / file, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; a model folder is shareable
        if verify is not None:
            verify(tmp)
        _replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    fsync_dir(out.parent)
    return out


def _check_destination(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"cannot write {out}: it exists and is not a folder.")
    if out.is_dir() and any(out.iterdir()) and not is_model_folder(out):
        raise ValueError(
            f"cannot write {out}: a folder with other files in it (an ONNX model folder would be replaced)."
        )


def _replace(tmp: Path, out: Path) -> None:
    """tmp becomes out; an old out is moved aside first and removed after (never half of each)."""
    if not out.exists():
        os.replace(tmp, out)
        return
    old = out.with_name(f".{out.name}.{os.getpid()}-{host_tag()}-old.tmp")
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":  # python -m vae_core.io.onnx_export CHECKPOINT OUT: decoder_bytes_apart's worker
    import sys

    from .checkpoint import load_checkpoint

    Path(sys.argv[2]).write_bytes(decoder_bytes(load_checkpoint(sys.argv[1])[0]))
