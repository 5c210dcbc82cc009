"""A VAE given as two ONNX graphs, behind the same interface as ours (vae_core.model.mlp.VAE).

`encode` gives a Posterior, `decode` probabilities, `decode_logits` pre-sigmoid values and `nll`
the same per-image likelihood, so every estimator, metric and analysis that takes a model takes
this one. The graphs run in onnxruntime, never in torch: there are no parameters and no
gradients (nothing in the evaluation or the analysis needs them; training, the training film and
anything that fine-tunes cannot use such a model).

Sessions: the CPU provider (CUDA where the model is asked for on a GPU and onnxruntime has it),
never another provider; a bounded thread count (the app shares the machine with its users).
The graphs given here are already checked (vae_core.io.onnx_graph) and self-contained bytes.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import torch
from torch import nn

from .mlp import VAE
from .onnx_config import OnnxConfig
from .posterior import Posterior

MAX_THREADS = 4  # intra-op threads per session: an app serves several users on a few cores
RUN_BATCH = 1024  # rows per onnxruntime call: memory stays flat on the IW bound's 20,000 codes
# Working memory of all ONNX sessions of the process together (one onnxruntime CPU arena with a
# ceiling): a graph that asks for more (ConstantOfShape [10^5, 10^5]) fails instead of taking
# the machine. The recipe's MLP needs ~10 MB per 1,024 rows; a 64x64 conv decoder a few hundred.
MAX_MEMORY = 2 * 2**30
_ARENA = threading.Lock()
_arena_registered = False
# A "probs" decoder's output as logits: |logit| <= 100 is torch's own clamp of log(p) in its
# binary cross-entropy, so a probability of exactly 0 or 1 costs 100 nats per pixel, not inf.
MAX_ABS_PROB_LOGIT = 100.0


class OnnxRunError(ValueError):
    """A graph that failed, gave the wrong shape, or ran past its time limit; one line for a person."""


def providers(device) -> list[str]:
    """CPU always; CUDA first when the model is asked for on a GPU and onnxruntime offers it."""
    import onnxruntime as ort

    wanted = ["CPUExecutionProvider"]
    if torch.device(device).type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        wanted.insert(0, "CUDAExecutionProvider")
    return wanted


def _shared_arena() -> None:
    """Register the bounded CPU arena once per process (onnxruntime refuses a second one)."""
    global _arena_registered
    import onnxruntime as ort

    with _ARENA:
        if not _arena_registered:
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            ort.create_and_register_allocator(
                info, ort.OrtArenaCfg({"max_mem": MAX_MEMORY, "arena_extend_strategy": 1})
            )
            _arena_registered = True


def session(graph: bytes, device="cpu"):
    """An InferenceSession on self-contained bytes (onnxruntime never opens a file of ours)."""
    import onnxruntime as ort

    _shared_arena()
    so = ort.SessionOptions()
    so.add_session_config_entry("session.use_env_allocators", "1")  # the bounded arena above
    so.intra_op_num_threads = max(1, min(MAX_THREADS, os.cpu_count() or 1))
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 4  # fatal only: a user's graph's errors come back as one OnnxRunError line
    return ort.InferenceSession(graph, so, providers=providers(device))


class OnnxVAE(nn.Module):
    """config: the checked manifest; encoder, decoder: checked self-contained ONNX bytes.

    `encoder_graph` and `decoder_graph` keep those bytes, so the app can hand the decoder to
    onnxruntime-web unchanged. `time_limit` (seconds, None: none) stops a run that takes longer,
    through onnxruntime's own terminate flag; the loader sets it for its probe."""

    def __init__(self, config: OnnxConfig, encoder: bytes, decoder: bytes, device="cpu"):
        super().__init__()
        self.config = config
        self.encoder_graph, self.decoder_graph = encoder, decoder
        self.device = torch.device(device)
        self.time_limit: float | None = None
        self._encoder, self._decoder = _session("encoder", encoder, device), _session("decoder", decoder, device)
        self.eval()

    @property
    def providers(self) -> list[str]:
        """The onnxruntime providers the sessions use (CPU, or CUDA then CPU)."""
        return self._decoder.get_providers()

    def encode(self, x: torch.Tensor) -> Posterior:
        cfg, names = self.config, self.config.tensor_names
        if x.dim() != 4 or tuple(x.shape[1:]) != cfg.image_shape:
            raise ValueError(f"images must be [N, {', '.join(map(str, cfg.image_shape))}], not {list(x.shape)}.")
        wanted = [names["mean"]] if cfg.point_mass else [names["mean"], names["logvar"]]
        outs = self._run("encoder", self._encoder, names["images"], x, wanted, (cfg.latent_dim,))
        if cfg.point_mass:
            return Posterior.point_mass(outs[0])
        return Posterior(outs[0], outs[1])

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """What the decoder graph gives (logits or probs, as the manifest says): [..., C, H, W]."""
        cfg = self.config
        if z.shape[-1:] != (cfg.latent_dim,):
            raise ValueError(f"codes must be [..., {cfg.latent_dim}], not {list(z.shape)}.")
        name = cfg.tensor_names[cfg.decoder_output]
        flat = z.reshape(-1, cfg.latent_dim)
        out = self._run("decoder", self._decoder, cfg.tensor_names["z"], flat, [name], cfg.image_shape)[0]
        return out.reshape(*z.shape[:-1], *cfg.image_shape)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z [..., D] -> pre-sigmoid pixel values [..., C, H, W]."""
        out = self.decode_raw(z)
        if self.config.decoder_output == "logits":
            return out
        logits = torch.logit(out.double()).clamp(-MAX_ABS_PROB_LOGIT, MAX_ABS_PROB_LOGIT)
        return logits.to(out.dtype)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, D] -> images [N, C, H, W] in [0, 1] (the decoder's mean)."""
        out = self.decode_raw(z)
        return torch.sigmoid(out) if self.config.decoder_output == "logits" else out.clamp(0.0, 1.0)

    nll = VAE.nll  # one home for the likelihood: it reads only config.likelihood and sigma_dec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction through the posterior mean: [N, C, H, W] -> [N, C, H, W] in [0, 1]."""
        return self.decode(self.encode(x).mode())

    def loss(self, *args, **kwargs):
        raise NotImplementedError("An ONNX model cannot be trained here: its graphs have no gradients in torch.")

    def _run(self, role: str, sess, input_name: str, x: torch.Tensor, outputs: list[str], tail: tuple) -> list:
        """Run a graph on x in RUN_BATCH chunks; each output checked to be float32 [n, *tail]."""
        target = x.device
        arr = x.detach().to("cpu", torch.float32).contiguous().numpy()
        if len(arr) == 0:
            return [torch.zeros((0, *tail), device=target) for _ in outputs]
        parts = [
            self._run_once(role, sess, {input_name: arr[i : i + RUN_BATCH]}, outputs, tail)
            for i in range(0, len(arr), RUN_BATCH)
        ]
        return [torch.from_numpy(np.concatenate([p[k] for p in parts])).to(target) for k in range(len(outputs))]

    def _run_once(self, role: str, sess, feeds: dict, outputs: list[str], tail: tuple) -> list[np.ndarray]:
        import onnxruntime as ort

        opts = ort.RunOptions()
        opts.log_severity_level = 4
        opts.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")  # give a peak back after the run
        timer = None
        if self.time_limit is not None:
            timer = threading.Timer(self.time_limit, lambda: setattr(opts, "terminate", True))
            timer.start()
        try:
            results = sess.run(outputs, feeds, opts)
        except Exception as e:  # onnxruntime's own error types; never a traceback for a user's graph
            if opts.terminate:
                raise OnnxRunError(
                    f"{role}.onnx took longer than {self.time_limit:g} s on {len(next(iter(feeds.values())))} inputs"
                ) from None
            if "Available memory of" in str(e):
                raise OnnxRunError(f"{role}.onnx needs more than {MAX_MEMORY >> 20:,} MB of working memory") from None
            raise OnnxRunError(f"{role}.onnx fails to run ({_first_line(e)})") from None
        finally:
            if timer is not None:
                timer.cancel()
        n = len(next(iter(feeds.values())))
        for name, r in zip(outputs, results, strict=True):
            if not isinstance(r, np.ndarray) or r.dtype != np.float32 or r.shape != (n, *tail):
                got = f"{getattr(r, 'dtype', type(r).__name__)} {list(getattr(r, 'shape', ()))}"
                raise OnnxRunError(f"{role}.onnx gives {name!r} as {got}, not float32 {[n, *tail]}")
        return results


def _session(role: str, graph: bytes, device):
    try:
        return session(graph, device)
    except Exception as e:  # onnxruntime's own checks (types, shapes, unknown ops): still one line
        raise OnnxRunError(f"onnxruntime cannot load {role}.onnx ({_first_line(e)})") from None


def _first_line(e: BaseException) -> str:
    text = (str(e).splitlines() or [type(e).__name__])[0]
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 200 else text[:199] + "…"
