"""`folder:PATH`: the user's images (ImageFolder conventions), decoded once into an on-disk cache.

    data = load_dataset("folder:/data/cells", "train", image_size=64, channels=3)
    data.images       # a ByteImages store: data.images[i:j] is float32 [n, C, S, S] in [0, 1]
    data.classes      # the class folders' names, sorted; () when the folder has no class folders
    data.labels       # indices into classes; -1 everywhere for unlabelled images
    data.note         # "10,000 images in 10 classes; skipped 4: notes.txt (not an image), ..."

Layout and skipping: vae_core.data.scan. Decoding (the crop-and-resize rule): vae_core.data.decode.
Splits: train/ and test/ sub-folders give the test split (train/ is split train/val); otherwise
a deterministic stratified train/val split (10 % held out), as for the built-in data.
Size: image_size (28, 32 or 64); by default the largest of those not above the images' typical
shorter side (the median of a sample of DEFAULT_SAMPLE files' headers), 28 for smaller images.
Channels: 1 when every usable image is grey, else 3; `channels` asks for either (grey from
colour by ITU-R 601 luma, colour from grey by repeating it).

The first load decodes every file once (worker processes, a progress bar) into the cache,
keyed by the folder's content — every image file's name, size and modification time — and the
side; the next load, in any process, reads the cache (memory-mapped) and decodes nothing. A
changed, added or removed file makes a new key. The cache is checked when read back (its
index's fields and a CRC-32 of the pixels); a bad entry is decoded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch

from .._atomic import atomic_write, host_tag, remove_stale_temps
from .cache import data_cache_dir, open_array, write_array
from .dataset import UNLABELLED, Dataset, split_of
from .decode import Refused, decode_bytes, decode_file, decode_into
from .idx import DatasetUnavailable
from .images import FORMATS
from .progress import progress_bar
from .scan import Scan, scan_folder, shown
from .store import ByteImages

IMAGE_SIZES = (28, 32, 64)
CHANNELS = (1, 3)
DEFAULT_SAMPLE = 64  # files whose headers decide the default size
VERSION = 1  # of the decoding rule and the cache layout: part of the key
CHUNK = 256  # files per decoding task
PARALLEL_FROM = 512  # files: fewer are decoded in this process (a worker pool costs a second to start)
MAX_INDEX_BYTES = 64 * 2**20  # a cache index larger than this is not ours
SHOWN_SKIPPED = 5  # skipped files named in the summary line
LUMA = np.array([299, 587, 114], dtype=np.uint32)  # ITU-R 601, per mille (as PIL's convert("L"))
_announced: set[str] = set()  # summary lines already printed by this process


def load_folder(path, split: str, image_size=None, channels=None, progress=None) -> Dataset:
    """A split of the folder's images (see the module docstring)."""
    if image_size is not None and image_size not in IMAGE_SIZES:
        raise ValueError(f"--image-size must be one of {', '.join(map(str, IMAGE_SIZES))}, not {image_size!r}.")
    if channels is not None and channels not in CHANNELS:
        raise ValueError(f"--channels must be 1 (grey) or 3 (colour), not {channels!r}.")
    scan = scan_folder(path)
    if not scan.files:
        raise DatasetUnavailable(f"{shown(str(path))}: no usable image ({skipped_text(scan.skipped)}).")
    if split == "test" and not scan.has_parts:
        raise ValueError(
            f"{shown(str(path))} has no train/ and test/ sub-folders, so no test split; use split 'val' "
            "(held out from training)."
        )
    side = image_size or default_size(scan)
    entry = cached_entry(scan, side, progress)
    index, images = entry["index"], entry["images"]
    note = summary(index)
    if note not in _announced:
        _announced.add(note)
        print(f"{shown(str(path))}: {note}", file=sys.stderr, flush=True)
    store = ByteImages(with_channels(images, channels), images.shape[1:] if channels is None else
                       (channels, side, side))  # fmt: skip
    labels = torch.tensor(index["labels"], dtype=torch.int64)
    data = Dataset(f"folder:{path}", split, store, labels, tuple(index["classes"]), {}, note)
    if not scan.has_parts:
        return split_of(data, split)
    parts = np.asarray(index["parts"])
    if split == "test":
        test = data.take(torch.from_numpy(np.flatnonzero(parts == "test")))
        test.split = "test"
        return test
    return split_of(data.take(torch.from_numpy(np.flatnonzero(parts == "train"))), split)


def default_size(scan: Scan) -> int:
    """The largest of IMAGE_SIZES not above the median shorter side of up to DEFAULT_SAMPLE files."""
    from PIL import Image

    files = scan.files
    step = max(1, len(files) // DEFAULT_SAMPLE)
    picks = files[::step][:DEFAULT_SAMPLE]
    sides = []
    for f in picks:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a bomb's warning: decoding will skip and name it
                with Image.open(f.path, formats=FORMATS) as img:  # the header only
                    sides.append(min(img.size))
        except Exception:  # unreadable or not an image: decoding will skip and name it
            continue
    typical = float(np.median(sides)) if sides else 0.0
    return max([s for s in IMAGE_SIZES if s <= typical], default=IMAGE_SIZES[0])


def content_key(scan: Scan, side: int) -> str:
    """sha256 of every image file's (name, size, mtime, part, class) and the side and version."""
    h = hashlib.sha256(f"vae_core folder v{VERSION} side {side}\n".encode())
    lines = (f"{f.name}\0{f.size}\0{f.mtime_ns}\0{f.part}\0{f.label is None}\0{f.label}\n" for f in scan.files)
    h.update("".join(lines).encode("utf-8", "surrogateescape"))  # names are UTF-8 (scan skips the others)
    return h.hexdigest()[:32]


def cached_entry(scan: Scan, side: int, progress=None) -> dict:
    """{"index": ..., "images": uint8 [n, C, side, side]} from the cache, decoding first if needed."""
    key = content_key(scan, side)
    folder = data_cache_dir("folders") / key
    entry = read_entry(folder, key)
    if entry is None:
        decode_folder(scan, side, folder, key, progress)
        entry = read_entry(folder, key)
        if entry is None:
            raise OSError(f"the decoded images of {shown(str(scan.root))} could not be read back from {folder}.")
    return entry


def read_entry(folder: Path, key: str) -> dict | None:
    """A cache entry, if its index is well-formed, agrees with its images and their CRC; else None."""
    try:
        raw = (folder / "index.json").read_bytes()[: MAX_INDEX_BYTES + 1]
        index = json.loads(raw) if len(raw) <= MAX_INDEX_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None
    if not _index_ok(index, key):
        return None
    images = open_array(folder / "images.npy", np.uint8, (index["n"], index["channels"], index["side"], index["side"]))
    if images is None or crc32(images) != index["crc32"]:
        return None
    return {"index": index, "images": images}


def _index_ok(index, key: str) -> bool:
    if not isinstance(index, dict) or index.get("version") != VERSION or index.get("key") != key:
        return False
    n, classes, labels, parts = index.get("n"), index.get("classes"), index.get("labels"), index.get("parts")
    fields_ok = (
        type(n) is int
        and n > 0
        and index.get("side") in IMAGE_SIZES
        and index.get("channels") in CHANNELS
        and type(index.get("crc32")) is int
        and isinstance(classes, list)
        and all(isinstance(c, str) for c in classes)
        and isinstance(labels, list)
        and isinstance(parts, list)
        and isinstance(index.get("names"), list)
        and isinstance(index.get("skipped"), list)
    )
    if not fields_ok or len(labels) != n or len(parts) != n or len(index["names"]) != n:
        return False
    lo = UNLABELLED if not classes else 0
    labels_ok = all(type(v) is int and lo <= v < max(len(classes), 1) for v in labels)
    return labels_ok and set(parts) <= {"", "train", "test"}


def crc32(images: np.ndarray, chunk: int = 4096) -> int:
    value = 0
    for i in range(0, len(images), chunk):
        value = zlib.crc32(np.ascontiguousarray(images[i : i + chunk]).data, value)
    return value


def decode_folder(scan: Scan, side: int, folder: Path, key: str, progress=None) -> None:
    """Decode every file once into the cache entry `folder` (images.npy, then index.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(folder)
    n = len(scan.files)
    fd, raw_path = tempfile.mkstemp(prefix=f".raw.{os.getpid()}-{host_tag()}-", suffix=".tmp", dir=folder)
    try:
        os.ftruncate(fd, max(1, n * side * side * 3))
        os.close(fd)
        with progress_bar("Decoding images", progress) as bar:
            results = _decode_all(scan, side, raw_path, bar)
        _write_entry(scan, side, folder, key, np.memmap(raw_path, np.uint8, "r", shape=(max(n, 1), side, side, 3)),
                     results)  # fmt: skip
    finally:
        Path(raw_path).unlink(missing_ok=True)


def _decode_all(scan: Scan, side: int, raw_path: str, bar) -> list[tuple[bool, str]]:
    paths = [f.path for f in scan.files]
    n = len(paths)
    tasks = [(i, paths[i : i + CHUNK], raw_path, max(n, 1), side) for i in range(0, n, CHUNK)]
    results: list[tuple[bool, str]] = []
    workers = min(_cores(), max(1, len(tasks)))
    if n < PARALLEL_FROM or workers < 2:
        for t in tasks:
            results += decode_into(t)
            bar(len(results), n)
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        for part in pool.map(decode_into, tasks):  # in order; each worker writes its own rows
            results += part
            bar(len(results), n)
    return results


def _write_entry(scan: Scan, side: int, folder: Path, key: str, raw: np.ndarray, results) -> None:
    ok = [i for i, (_, reason) in enumerate(results) if not reason]
    skipped = [*scan.skipped, *((scan.files[i].name, r) for i, (_, r) in enumerate(results) if r)]
    if not ok:  # nothing to cache: the next load tries again (and says the same)
        raise DatasetUnavailable(f"{shown(str(scan.root))}: no usable image ({skipped_text(skipped)}).")
    channels = 1 if all(results[i][0] for i in ok) else 3
    used = sorted({scan.files[i].label for i in ok if scan.files[i].label is not None})  # empty classes drop out
    lookup = {c: j for j, c in enumerate(used)}

    def fill(out):
        for s in range(0, len(ok), CHUNK):
            rows = raw[ok[s : s + CHUNK], :, :, :channels]  # [k, side, side, C]: grey images repeat one value
            out[s : s + len(rows)] = rows.transpose(0, 3, 1, 2)

    shape = (len(ok), channels, side, side)
    write_array(folder / "images.npy", fill, np.uint8, shape)
    images = open_array(folder / "images.npy", np.uint8, shape)
    index = {
        "version": VERSION,
        "key": key,
        "folder": str(scan.root),
        "side": side,
        "channels": channels,
        "n": len(ok),
        "classes": used,
        "labels": [lookup[scan.files[i].label] if used else UNLABELLED for i in ok],
        "parts": [scan.files[i].part for i in ok],
        "names": [scan.files[i].name for i in ok],
        "skipped": [[shown(name), reason] for name, reason in skipped],
        "crc32": crc32(images) if images is not None else -1,
    }
    atomic_write(folder / "index.json", lambda f: f.write(json.dumps(index).encode()), durable=False)


def prepare_like_folder(data: bytes, image_size: int, channels: int, max_bytes: int | None = None) -> torch.Tensor:
    """One uploaded image prepared exactly as a folder's images are (decode_file's crop-and-resize
    rule, then with_channels): float [channels, image_size, image_size] in [0, 1]. A model trained
    on a folder expects this, not a digit's MNIST preparation. ValueError with a human line."""
    from .images import MAX_BYTES

    limit = MAX_BYTES if max_bytes is None else max_bytes
    if not data:
        raise ValueError("The file is empty.")
    if len(data) > limit:
        raise ValueError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB.")
    if image_size not in IMAGE_SIZES or channels not in CHANNELS:
        raise ValueError(f"Folder images are {IMAGE_SIZES} px, {CHANNELS} channels; not {image_size} px, {channels}.")
    try:
        rgb, _ = decode_bytes(data, image_size)
    except Refused as e:
        raise ValueError(f"This file cannot be used: {e}.") from None
    one = with_channels(np.ascontiguousarray(rgb.transpose(2, 0, 1))[None], channels)[0]
    return torch.from_numpy(one.astype(np.float32) / 255.0)


def with_channels(images: np.ndarray, channels: int | None) -> np.ndarray:
    """uint8 [n, C, S, S] with `channels` channels: grey repeated, or colour to ITU-R 601 luma."""
    have = images.shape[1]
    if channels is None or channels == have:
        return images
    if channels == 3:
        return np.repeat(np.asarray(images), 3, axis=1)
    out = np.empty((len(images), 1, *images.shape[2:]), dtype=np.uint8)
    for s in range(0, len(images), 4096):
        rgb = np.asarray(images[s : s + 4096], dtype=np.uint32)
        out[s : s + len(rgb), 0] = ((rgb * LUMA[None, :, None, None]).sum(1) + 500) // 1000
    return out


def summary(index: dict) -> str:
    """One line: "10,000 images in 10 classes; skipped 4: notes.txt (not an image), …"."""
    n, classes = index["n"], index["classes"]
    where = f"in {len(classes)} classes" if classes else "without classes (unlabelled)"
    line = f"{n:,} images {where}, {index['channels']} channel(s) at {index['side']}x{index['side']}"
    return line + (f"; {skipped_text(index['skipped'])}" if index["skipped"] else "")


def skipped_text(skipped: list) -> str:
    if not skipped:
        return "nothing was skipped"
    named = ", ".join(f"{shown(name)} ({reason})" for name, reason in skipped[:SHOWN_SKIPPED])
    more = len(skipped) - SHOWN_SKIPPED
    return f"skipped {len(skipped):,}: {named}" + (f", … and {more:,} more" if more > 0 else "")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


__all__ = ["IMAGE_SIZES", "Refused", "decode_file", "load_folder"]
