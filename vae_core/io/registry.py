"""Which checkpoints are there: shipped ones and the user's, good and bad, described cheaply.

Only the safetensors header is read (a few KB) and validated (vae_core.io.header), so the app can
list every model on every rerun (of an ONNX model folder: model.json and the graphs' protobufs,
vae_core.io.onnx_folder; no torch, no onnxruntime, nothing run). A bad file becomes an entry with
its error message instead of breaking the list. `scan` never raises: whatever is in the folders
(garbage headers, files that vanish mid-scan, names that are not UTF-8, unreadable files) ends up
as a line in the list. It also removes the temporary files of saves whose writer died (vae_core.io.atomic).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import remove_stale_temps
from .header import CheckpointError, display_name, printable, read_meta
from .onnx_folder import describe_folder, is_model_folder, stamp

KIND_NAMES = {"vae": "VAE", "ae": "Autoencoder", "kl": "KL-only"}
PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".ckpt", ".bin")
ONNX_SUBFOLDER = "onnx"  # ONNX model folders sit in a scanned folder or in its onnx/ (checkpoints/onnx/NAME/)
MAX_ONNX_FOLDERS = 64  # per scanned folder: listing stays bounded whatever a user's folder holds


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
    def name(self) -> str:
        """The file name, printable whatever bytes it is made of."""
        return display_name(self.path)

    @property
    def format(self) -> str:
        """ "safetensors" (ours: retrainable, its weights readable) or "onnx" (a folder of two graphs)."""
        return self.meta.get("format", "safetensors")

    @property
    def kind(self) -> str:
        return self.meta.get("model_config", {}).get("kind", "?")

    @property
    def latent_dim(self) -> int:
        return int(self.meta.get("model_config", {}).get("latent_dim", 0))

    @property
    def dataset(self) -> str:
        return self.meta.get("dataset") or "?"

    @property
    def image_shape(self) -> tuple:
        return tuple(self.meta.get("model_config", {}).get("image_shape", (1, 28, 28)))

    @property
    def label(self) -> str:
        """The picker's line: the file's name first (what a user recognises), then what it is."""
        return f"{self.stem} · {self.short_description}"

    @property
    def stem(self) -> str:
        """The file's name without its suffix, printable whatever bytes it is made of."""
        return printable(self.path.name if self.format == "onnx" else self.path.stem)

    @property
    def short_description(self) -> str:
        name = KIND_NAMES.get(self.kind, self.kind)
        beta = self.meta.get("model_config", {}).get("beta", 1.0)
        extra = f", β={beta:g}" if self.kind == "vae" and beta != 1 else ""
        onnx = ", ONNX" if self.format == "onnx" else ""
        return f"{name}{extra}, z={self.latent_dim}{onnx} ({self.source})"

    @property
    def description(self) -> str:
        name = KIND_NAMES.get(self.kind, self.kind)
        beta = self.meta.get("model_config", {}).get("beta", 1.0)
        extra = f" with β = {beta:g}" if self.kind == "vae" and beta != 1 else ""
        onnx = ", an ONNX model" if self.format == "onnx" else ""
        return f"{name}{extra}, z = {self.latent_dim}, trained on {self.dataset}{onnx} ({self.source})."


def describe(path: Path, source: str) -> ModelEntry:
    """One file as an entry; never raises."""
    path = Path(path)
    onnx = {"format": "onnx"} if is_model_folder(path) else {}
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        return ModelEntry(path, source, 0.0, onnx, f"{display_name(path)}: the name is not valid UTF-8; rename it.")
    try:
        st = path.stat()
    except OSError as e:
        return ModelEntry(path, source, 0.0, onnx, f"{display_name(path)}: {printable(e.strerror or str(e))}")
    if onnx:
        return _describe_onnx(path, source, *stamp(path))
    return _describe(path, source, st.st_mtime, st.st_size)


@functools.lru_cache(maxsize=512)
def _describe(path: Path, source: str, mtime: float, size: int) -> ModelEntry:
    """Header read and checks, once per file version: the app rescans on every rerun."""
    try:
        meta = read_meta(path)
    except CheckpointError as e:
        return ModelEntry(path, source, mtime, {}, printable(str(e), 400))
    except Exception as e:  # a check we did not think of must still not break the list
        return ModelEntry(path, source, mtime, {}, f"{display_name(path)}: unreadable ({type(e).__name__}).")
    return ModelEntry(path, source, mtime, meta)


@functools.lru_cache(maxsize=128)
def _describe_onnx(path: Path, source: str, mtime: float, size: int) -> ModelEntry:
    """An ONNX model folder: manifest and graphs checked without running them (no torch, no
    onnxruntime), once per version of its files; what only running shows is checked at load."""
    try:
        meta = describe_folder(path)
    except CheckpointError as e:
        return ModelEntry(path, source, mtime, {"format": "onnx"}, printable(str(e), 400))
    except Exception as e:  # a check we did not think of must still not break the list
        return ModelEntry(
            path, source, mtime, {"format": "onnx"}, f"{display_name(path)}: unreadable ({type(e).__name__})."
        )
    return ModelEntry(path, source, mtime, meta)


def onnx_dirs(folder: Path) -> list[Path]:
    """ONNX model folders in `folder` and in its onnx/ subfolder, at most MAX_ONNX_FOLDERS."""
    found = []
    for base in (folder, folder / ONNX_SUBFOLDER):
        try:
            children = sorted(base.iterdir()) if base.is_dir() and not is_model_folder(base) else []
        except OSError:
            continue
        for d in children:
            if not d.name.startswith(".") and not d.name.startswith("sweep-") and is_model_folder(d):
                found.append(d)
            if len(found) >= MAX_ONNX_FOLDERS:
                return found
    return found


def scan(shipped_dir, user_dir=None, sweeps=True, onnx=False) -> list[ModelEntry]:
    """All *.safetensors in the two folders (plus stray .pt/.pkl/.ckpt, listed as refused), with
    `onnx` their ONNX model folders (directly or in onnx/, see onnx_dirs), and with `sweeps` the
    checkpoints of their β-sweep subfolders (sweep-*/, source "sweep"), sorted by latent size, then
    kind (VAE, AE, KL-only), then name. Never raises.

    `onnx` is off by default until the app's pages can show an ONNX model (its live map publishes
    an MLP decoder's weights); a caller that can, passes onnx=True."""
    entries = []
    for folder, source in ((shipped_dir, "shipped"), (user_dir, "yours")):
        if folder is not None:
            entries += _scan_folder(Path(folder), source)
            entries += [describe(d, source) for d in onnx_dirs(Path(folder))] if onnx else []
            entries += [e for d in sweep_dirs(folder) for e in _scan_folder(d, "sweep")] if sweeps else []
    order, sources = {"vae": 0, "ae": 1, "kl": 2}, {"shipped": 0, "yours": 1, "sweep": 2}
    return sorted(entries, key=lambda e: (not e.ok, e.latent_dim, order.get(e.kind, 9), sources[e.source], e.name))


def sweep_dirs(folder) -> list[Path]:
    """The β-sweep folders (sweep-*/ holding a sweep.json) directly inside `folder`."""
    try:
        return sorted(d for d in Path(folder).glob("sweep-*") if d.is_dir() and (d / "sweep.json").is_file())
    except OSError:
        return []


def _scan_folder(folder: Path, source: str) -> list[ModelEntry]:
    try:
        paths = sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return []  # unreadable folder: nothing to list (the app says when there are no models)
    remove_stale_temps(folder)
    entries = []
    for path in paths:
        try:
            if path.name.startswith(".") or not path.is_file():
                continue
            if source == "sweep" and path.is_symlink():  # a grid point that reuses a listed model
                continue
            if path.suffix == ".safetensors":
                entries.append(describe(path, source))
            elif path.suffix in PICKLE_SUFFIXES:
                message = "pickle-based formats are never loaded; convert it to a vae_core .safetensors checkpoint."
                entries.append(ModelEntry(path, source, path.stat().st_mtime, {}, f"{display_name(path)}: {message}"))
            elif path.suffix == ".onnx":
                message = (
                    "a lone ONNX file; a model is a folder with encoder.onnx, decoder.onnx and model.json "
                    "(README, 'Your own model')."
                )
                entries.append(
                    ModelEntry(
                        path, source, path.stat().st_mtime, {"format": "onnx"}, f"{display_name(path)}: {message}"
                    )
                )
        except OSError as e:  # vanished or unreadable between the listing and now
            entries.append(ModelEntry(path, source, 0.0, {}, f"{display_name(path)}: {printable(str(e.strerror))}"))
    return entries
