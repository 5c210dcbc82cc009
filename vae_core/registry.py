"""Which checkpoints are there: shipped ones and the user's, good and bad, described cheaply.

Only the safetensors header is read (a few KB), so the app can list every model on every
rerun; a bad file becomes an entry with its error message instead of breaking the list.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from .checkpoint import CheckpointError, read_meta

KIND_NAMES = {"vae": "VAE", "ae": "Autoencoder", "kl": "KL-only"}


@dataclass(frozen=True)
class ModelEntry:
    path: Path
    source: str  # "shipped" or "yours"
    mtime: float
    meta: dict = field(hash=False, compare=False, default_factory=dict)
    error: str | None = None  # set when the file cannot be used; the message says why

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "?")

    @property
    def latent_dim(self) -> int:
        return int(self.meta.get("model_config", {}).get("latent_dim", 0))

    @property
    def dataset(self) -> str:
        return self.meta.get("dataset", "?")

    @property
    def image_shape(self) -> tuple:
        return tuple(self.meta.get("model_config", {}).get("image_shape", (1, 28, 28)))

    @property
    def label(self) -> str:
        """The picker's line: the file's name first (what a user recognises), then what it is."""
        return f"{self.path.stem} · {self.short_description}"

    @property
    def short_description(self) -> str:
        name = KIND_NAMES.get(self.kind, self.kind)
        beta = self.meta.get("model_config", {}).get("beta", 1.0)
        extra = f", β={beta:g}" if self.kind == "vae" and beta != 1 else ""
        return f"{name}{extra}, z={self.latent_dim} ({self.source})"

    @property
    def description(self) -> str:
        name = KIND_NAMES.get(self.kind, self.kind)
        beta = self.meta.get("model_config", {}).get("beta", 1.0)
        extra = f" with β = {beta:g}" if self.kind == "vae" and beta != 1 else ""
        return f"{name}{extra}, z = {self.latent_dim}, trained on {self.dataset} ({self.source})."


def describe(path: Path, source: str) -> ModelEntry:
    try:
        st = path.stat()
    except OSError as e:
        return ModelEntry(path, source, 0.0, {}, f"{path.name}: {e.strerror}")
    return _describe(path, source, st.st_mtime, st.st_size)


@functools.lru_cache(maxsize=512)
def _describe(path: Path, source: str, mtime: float, size: int) -> ModelEntry:
    """Header read and shape check, once per file version: the app rescans on every rerun."""
    try:
        meta = read_meta(path)
        if not isinstance(meta.get("model_config"), dict):
            raise CheckpointError(f"{path.name}: its metadata has no model settings.")
    except (CheckpointError, json.JSONDecodeError, OSError) as e:
        return ModelEntry(path, source, mtime, {}, str(e))
    return ModelEntry(path, source, mtime, meta)


def scan(shipped_dir, user_dir=None) -> list[ModelEntry]:
    """All *.safetensors in the two folders (plus stray .pt/.pkl/.ckpt, listed as refused),
    sorted by latent size, then kind (VAE, AE, KL-only), then name."""
    entries = []
    for folder, source in ((shipped_dir, "shipped"), (user_dir, "yours")):
        if folder is None or not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            if path.suffix == ".safetensors":
                entries.append(describe(path, source))
            elif path.suffix in (".pt", ".pth", ".pkl", ".ckpt", ".bin"):
                entries.append(
                    ModelEntry(
                        path,
                        source,
                        path.stat().st_mtime,
                        {},
                        f"{path.name}: pickle-based formats are never loaded; "
                        "convert it to a vae_core .safetensors checkpoint.",
                    )
                )
    order = {"vae": 0, "ae": 1, "kl": 2}
    return sorted(entries, key=lambda e: (not e.ok, e.latent_dim, order.get(e.kind, 9), e.path.name))
