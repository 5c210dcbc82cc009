"""The app's folders and limits, from the environment (README, "Configuration"). No Streamlit, no torch."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP_POINTS = 2_000_000  # codes shown on a map: a whole training split, up to the live map's limit
MAX_3D_POINTS = 20_000  # a WebGL scatter in the browser stays fluid up to about here
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
UPLOAD_MB = 10


def synthetic_datasets() -> tuple[str, ...]:
    """Generated datasets offered beside the real ones (vae_core.data.synthetic), from
    $VAE_EXPLORER_SYNTHETIC, e.g. "1000000" or "200000,1000000": synthetic:N for each N. For
    benchmarks and tests of maps at scale; none unless asked for."""
    sizes = [s.strip() for s in os.environ.get("VAE_EXPLORER_SYNTHETIC", "").split(",")]
    return tuple(f"synthetic:{int(s)}" for s in sizes if s.isdigit() and 0 < int(s) <= MAP_POINTS)


def shipped_dir() -> Path:
    """The shipped models (never written by the app)."""
    return Path(os.environ.get("VAE_EXPLORER_CHECKPOINTS", ROOT / "checkpoints"))


def user_dir() -> Path:
    """Where the Train page saves models (never the shipped folder)."""
    return Path(os.environ.get("VAE_EXPLORER_USER_MODELS", ROOT / "user_models"))


def cache_dir(part: str = "") -> Path:
    """The app's own writable cache (projections, live-map assets, fitted samplers): never the
    repository's shipped folders. $VAE_EXPLORER_CACHE, else ~/.cache/vae-explorer."""
    base = os.environ.get("VAE_EXPLORER_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    root = Path(base) if os.environ.get("VAE_EXPLORER_CACHE") else Path(base) / "vae-explorer"
    return root / part if part else root


def renderer() -> str:
    """How the live map draws its points: $VAE_EXPLORER_RENDERER = auto (WebGL on a GPU, else our
    canvas code: README "Performance"), webgl or canvas."""
    r = os.environ.get("VAE_EXPLORER_RENDERER", "auto")
    return r if r in ("auto", "webgl", "canvas") else "auto"


def live_map() -> bool:
    """Whether pages use the live map: on, unless VAE_EXPLORER_LIVEMAP=0 (then plotly maps and
    server-decoded images, as for a browser that cannot run the component)."""
    return os.environ.get("VAE_EXPLORER_LIVEMAP", "1") != "0"


def data_root() -> str | None:
    """$VAE_EXPLORER_DATA_ROOT: a torchvision root for mnist / fashion, and the ONE root under which
    the app shows image folders (folder:PATH data); a path typed in a browser is never read."""
    return os.environ.get("VAE_EXPLORER_DATA_ROOT") or None


def uploads_dir() -> Path:
    """Where the Train page extracts a browser's zip of images (vae_core.data.archive): a folder of
    the app's cache, the second allow-listed root."""
    return cache_dir("uploads")


def allowed_folder(path: str) -> Path | None:
    """`path` resolved (links followed) when it is a folder inside DATA_ROOT or inside the uploads
    folder, else None: the app reads an image folder only under an allow-listed root, whatever a
    checkpoint's header or a link says."""
    if not path:
        return None
    for root in (data_root(), uploads_dir()):
        if not root:
            continue
        try:
            root, target = Path(root).resolve(), Path(path).resolve()
            if target.is_relative_to(root) and target != root and target.is_dir():
                return target
        except (OSError, ValueError, RuntimeError):  # unreadable, a NUL byte, a link loop
            continue
    return None
