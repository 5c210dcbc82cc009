"""What ships so that the first page draws its map before torch is imported.

`streamlit run app.py` opens the Latent map of the default model (vae-z2 on mnist5k). Everything
that map needs is a plain array: the codes of the 4,500 training digits (posterior means and
log-variances), the digits themselves (uint8) with their labels, and the decoder's weights (read
from the checkpoint by safetensors' numpy reader, ui/services/map_assets.py). The first two are
computed once at ship time by scripts/ship_first_map.py and stored beside the checkpoints,
content-addressed: a codes file names the sha256 of the checkpoint it was computed from, so a
retrained or replaced checkpoint never meets stale codes (it simply falls back to encoding with
torch, like every other model). tests/app/test_first_map.py checks that the shipped arrays are
exactly what the engine computes today.

Files are .npz without pickles, read with byte caps (vae_core.io.projection_cache's reader).
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np

from ui import settings
from vae_core.data import catalog

FOLDER = "first_map"  # inside the shipped checkpoints folder
DIGEST = 16  # hex characters of the checkpoint's sha256 in a codes file's name
MAX_BYTES = 64 * 2**20  # a codes or data file of ours is a few MB


def folder() -> Path:
    return settings.shipped_dir() / FOLDER


@functools.lru_cache(maxsize=256)
def _sha256(path: str, version: tuple) -> str:
    from vae_core.io.projection_cache import file_digest  # the one content digest (a folder's too)

    return file_digest(path)


def checkpoint_digest(path) -> str:
    """The checkpoint's sha256 (an ONNX model folder's: its files'), once per version of its
    files (a 2 MB file: a few milliseconds)."""
    p = Path(path)
    files = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
    return _sha256(str(path), tuple((f.name, f.stat().st_mtime, f.stat().st_size) for f in files))


def codes_name(stem: str, digest: str, data: str) -> str:
    return f"{stem}-{digest[:DIGEST]}-{data}.npz"


def data_name(data: str) -> str:
    return f"{data}-train.npz"


def codes(path, data: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, logvar) float32 [N, D] shipped for this checkpoint file on `data`, or None."""
    try:
        name = codes_name(Path(path).stem, checkpoint_digest(path), data)
    except OSError:
        return None
    arrays = _read(folder() / name, ("mean", "logvar"))
    if arrays is None or arrays["mean"].shape != arrays["logvar"].shape or arrays["mean"].ndim != 2:
        return None
    if arrays["mean"].dtype not in (np.float16, np.float32) or arrays["logvar"].dtype != arrays["mean"].dtype:
        return None  # float16 for big maps (as the app's code cache), float32 else; nothing else is ours
    return arrays["mean"].astype(np.float32), arrays["logvar"].astype(np.float32)


def dataset(data: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]] | None:
    """(images uint8 [N, H, W] or [N, C, H, W], labels int64 [N], class names) shipped for `data`'s
    training split, or None."""
    arrays = _read(folder() / data_name(data), ("images", "labels", "classes"))
    if arrays is None or arrays["images"].dtype != np.uint8 or len(arrays["images"]) != len(arrays["labels"]):
        return None
    return arrays["images"], arrays["labels"].astype(np.int64), tuple(str(c) for c in arrays["classes"])


def index_name(data: str) -> str:
    return f"{data}-train-index.npz"


def split_recipe() -> np.ndarray:
    """What a shipped split depends on besides the labels: the val share and the generator's seed."""
    return np.array([catalog.VAL_FRACTION, catalog.SPLIT_SEED], dtype=np.float64)


def train_index(data: str, n_rows: int) -> np.ndarray | None:
    """The rows of a generated dataset's images (`n_rows` of them, in the generator's order) that
    its map shows: its training split, int64 [N] ascending, or None (absent, damaged, or made for
    another size or split recipe). Shipped because the engine draws the split with torch's
    generator (vae_core.data.dataset.stratified_split) and the shapes map's first page runs
    without torch: a packed membership mask of the rows (737,280 bits for shapes)."""
    arrays = _read(folder() / index_name(data), ("mask", "rows", "recipe"))
    if arrays is None or arrays["mask"].dtype != np.uint8 or arrays["rows"].shape != ():
        return None
    if int(arrays["rows"]) != n_rows or arrays["mask"].shape != ((n_rows + 7) // 8,):
        return None
    if not np.array_equal(arrays["recipe"], split_recipe()):
        return None
    return np.flatnonzero(np.unpackbits(arrays["mask"], count=n_rows)).astype(np.int64)


def _read(path: Path, members: tuple[str, ...]) -> dict | None:
    """The named arrays of an .npz we shipped; None when absent or not what we wrote."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as z:
            if sorted(z.files) != sorted(members):
                return None
            return {m: z[m] for m in members}
    except Exception:  # BadZipFile, zlib.error, EOFError, OSError, ValueError...: not a file we wrote
        return None


def write(out: Path, stem: str, digest: str, data: str, mean, logvar, images, labels, classes,
          dtype: str = "float32") -> list[Path]:  # fmt: skip
    """The files for one (checkpoint, dataset), used by scripts/ship_first_map.py: the codes (as
    `dtype`), and the images unless they are None (a generated dataset is drawn again: see
    write_index)."""
    out.mkdir(parents=True, exist_ok=True)
    codes_path, data_path = out / codes_name(stem, digest, data), out / data_name(data)
    np.savez_compressed(codes_path, mean=np.asarray(mean, dtype), logvar=np.asarray(logvar, dtype))
    if images is None:
        return [codes_path]
    np.savez_compressed(data_path, images=images, labels=labels, classes=np.array(classes))
    return [codes_path, data_path]


def write_index(out: Path, data: str, rows, n_rows: int) -> Path:
    """A generated dataset's training rows (distinct ints in 0..n_rows-1) as train_index reads them."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.ndim != 1 or (rows.size and (rows.min() < 0 or rows.max() >= n_rows)) or len(np.unique(rows)) != len(rows):
        raise ValueError(f"training rows must be distinct ints in 0..{n_rows - 1}")
    mask = np.zeros(n_rows, dtype=bool)
    mask[rows] = True
    path = out / index_name(data)
    np.savez_compressed(path, mask=np.packbits(mask), rows=np.int64(n_rows), recipe=split_recipe())
    return path
