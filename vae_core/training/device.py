"""Where training and evaluation run, and in which precision.

`resolve_device("auto")` picks CUDA, then Apple's MPS, then the CPU; an explicit device that is
not here is one clear ValueError, never a CUDA traceback halfway through an epoch.

`resolve_precision("auto", device)` picks bf16 autocast where the device runs it faster at the
same quality, fp32 elsewhere. bf16 keeps fp32's 8-bit exponent (no loss scaling needed, unlike
fp16) and halves the matmul inputs; the reductions of the loss stay fp32 under autocast.
Measured on the shipped recipe (README, "Performance"): same validation ELBO within noise.
Support is detected honestly: on CUDA by asking the driver, on a CPU only where the instruction
set has bf16 dot products (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slower than fp32.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")
# CPU flags (Linux /proc/cpuinfo) that mean native bf16 dot products: Intel Cooper Lake and
# AMD Zen 4 have AVX512-BF16, Sapphire Rapids and later add AMX tiles.
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' -> the fastest device here; 'cuda', 'cuda:1', 'mps', 'cpu' -> checked to exist."""
    if isinstance(name, torch.device):
        name = str(name)
    if not isinstance(name, str):
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {name!r}.")
    kind = name.split(":", 1)[0]
    if kind not in DEVICES or (":" in name and kind != "cuda"):
        raise ValueError(f"Unknown device {name!r}: choose one of {', '.join(DEVICES)}.")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("Device cuda was asked for, but this PyTorch sees no CUDA GPU; use --device cpu or auto.")
        index = _cuda_index(name)
        if index >= torch.cuda.device_count():
            raise ValueError(f"Device {name}: only {torch.cuda.device_count()} CUDA device(s) here.")
    if kind == "mps" and not _mps_available():
        raise ValueError("Device mps was asked for, but this machine has no Apple GPU; use --device cpu or auto.")
    return torch.device(name)


def _cuda_index(name: str) -> int:
    if ":" not in name:
        return 0
    index = name.split(":", 1)[1]
    if not index.isdigit():
        raise ValueError(f"Unknown device {name!r}: a CUDA device is cuda or cuda:N.")
    return int(index)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 matmuls are native (hence faster than fp32) on this device."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return bool(cpu_flags() & set(CPU_BF16_FLAGS))
    return False  # MPS: bf16 autocast is partial across macOS versions; fp32 is the safe choice


@functools.cache
def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (Linux); empty where /proc/cpuinfo does not exist."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' -> 'bf16' where the device has native bf16, else 'fp32'; explicit choices are checked."""
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
    if precision == "auto":
        return "bf16" if bf16_supported(device) else "fp32"
    if precision == "bf16" and device.type == "mps":
        raise ValueError("bf16 autocast is not supported on mps here; use --precision fp32.")
    return precision


def autocast(device: torch.device, precision: str):
    """The training step's context: bf16 autocast, or nothing at fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def generator(device: torch.device, seed: int) -> torch.Generator:
    """A seeded generator on `device`: random numbers are drawn where they are used (no copies)."""
    return torch.Generator(device=device).manual_seed(seed)


def describe(device: torch.device) -> str:
    """A person-readable name of the device, for logs and benchmark tables."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "cpu":
        import platform

        return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    return str(device)


def memory_available(device: torch.device) -> int | None:
    """Bytes free for new tensors on the device (None when unknown)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type == "cpu":
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            return None
    return None
