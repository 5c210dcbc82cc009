"""Walking an untrusted image folder: its layout, the image files, and what was skipped and why.

Layout (torchvision's ImageFolder conventions):
    PATH/<class>/**/<image>             one sub-folder per class (its name is the class name)
    PATH/<image>                        no sub-folders: unlabelled images
    PATH/train/..., PATH/test/...       either layout inside each: train/ and test/ give the splits

What is skipped, counted and named (never an error): hidden files and folders (a leading "."),
names that are not UTF-8, files whose suffix is not an image's (.png .jpg .jpeg .webp .bmp
.gif), files over the upload limit (vae_core.data.images.MAX_BYTES), things that are not
regular files, unreadable folders, symbolic links that lead outside PATH (links inside it are
followed, each real folder once), files beside class folders. Bounded: at most MAX_ENTRIES
names are looked at, MAX_IMAGES image files and MAX_TOTAL_BYTES of them; beyond, one
DatasetUnavailable names the limit.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .idx import DatasetUnavailable
from .images import MAX_BYTES

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
PARTS = ("train", "test")
MAX_ENTRIES = 1_000_000  # files and folders looked at
MAX_IMAGES = 200_000  # image files (200,000 x 3 x 64 x 64 bytes = 2.5 GB decoded)
MAX_TOTAL_BYTES = 16 * 2**30  # of image files
MAX_DEPTH = 32  # folder nesting inside a class folder


@dataclass(frozen=True)
class ImageFile:
    path: str  # to open (a link inside the folder is opened through its name)
    name: str  # relative to the folder, for messages and the cache key
    size: int
    mtime_ns: int
    part: str  # "" (one pool, split train/val), "train" or "test"
    label: str | None  # the class folder's name; None for unlabelled images


@dataclass
class Scan:
    root: Path
    files: list[ImageFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    has_parts: bool = False  # train/ and test/ sub-folders
    entries: int = 0
    total_bytes: int = 0


def shown(name: str) -> str:
    """A file name fit for a message: undecodable bytes as U+FFFD, no control characters."""
    text = os.fsencode(name).decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 80 else text[:79] + "…"


def scan_folder(path) -> Scan:
    """Every image file of the folder, with what was skipped; DatasetUnavailable when the folder
    is missing or over a bound."""
    if not str(path).strip():
        raise DatasetUnavailable("folder:PATH needs the path of a folder of images.")
    try:
        real = Path(os.path.realpath(Path(path)))
        if not real.is_dir():
            raise DatasetUnavailable(f"{shown(str(path))} is not a folder.")
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        raise DatasetUnavailable(f"{shown(str(path))} cannot be read ({getattr(e, 'strerror', None) or e}).") from None
    scan = Scan(real)
    top = _listing(scan, real, "")
    dirs = {e.name: e for e in top if _is_dir(e)}
    scan.has_parts = all(p in dirs for p in PARTS)
    if scan.has_parts:
        for e in top:
            if e.name not in PARTS:
                _skip(scan, e.name, "outside train/ and test/")
        for p in PARTS:
            _collect(scan, _listing(scan, Path(dirs[p].path), p + "/"), p + "/", p)
    else:
        _collect(scan, top, "", "")
    return scan


def _collect(scan: Scan, entries: list, prefix: str, part: str) -> None:
    """One pool's images: class sub-folders if there are any, else the files themselves."""
    classes = [e for e in entries if _is_dir(e)]
    for e in entries:
        if _is_dir(e):
            _walk(scan, Path(e.path), prefix + e.name + "/", part, e.name, depth=1, seen=set())
        elif classes:
            _skip(scan, prefix + e.name, "outside the class folders")
        else:
            _file(scan, e, prefix + e.name, part, None)


def _walk(scan: Scan, folder: Path, prefix: str, part: str, label: str, depth: int, seen: set) -> None:
    real = os.path.realpath(folder)
    if real in seen:
        return  # a link back to a folder already walked
    seen.add(real)
    if depth > MAX_DEPTH:
        _skip(scan, prefix, f"nested deeper than {MAX_DEPTH} folders")
        return
    for e in _listing(scan, folder, prefix):
        if _is_dir(e):
            _walk(scan, Path(e.path), prefix + e.name + "/", part, label, depth + 1, seen)
        else:
            _file(scan, e, prefix + e.name, part, label)


def _listing(scan: Scan, folder: Path, prefix: str) -> list:
    """The usable entries of a folder, sorted by name; the rest skipped with a reason."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        _skip(scan, prefix or ".", f"unreadable folder: {e.strerror or e}")
        return []
    scan.entries += len(entries)
    if scan.entries > MAX_ENTRIES:
        raise DatasetUnavailable(
            f"{shown(str(scan.root))} holds more than {MAX_ENTRIES:,} files and folders; the limit is {MAX_ENTRIES:,}."
        )
    usable = []
    for e in entries:
        name = prefix + e.name
        if e.name.startswith("."):
            _skip(scan, name, "hidden")
        elif not _utf8(e.name):
            _skip(scan, name, "name is not UTF-8")
        elif e.is_symlink() and not _inside(scan.root, e.path):
            _skip(scan, name, "link leaves the folder")
        else:
            usable.append(e)
    return usable


def _file(scan: Scan, e, name: str, part: str, label: str | None) -> None:
    if not e.name.lower().endswith(IMAGE_SUFFIXES):
        _skip(scan, name, "not an image")
        return
    try:
        st = os.stat(e.path)  # through a link: the target's size and time
    except OSError as err:
        _skip(scan, name, f"unreadable: {err.strerror or err}")
        return
    if not stat.S_ISREG(st.st_mode):
        _skip(scan, name, "not a regular file")
        return
    if st.st_size > MAX_BYTES:
        _skip(scan, name, f"{st.st_size / 2**20:.0f} MB, over the {MAX_BYTES / 2**20:.0f} MB limit")
        return
    scan.files.append(ImageFile(e.path, name, st.st_size, st.st_mtime_ns, part, label))
    scan.total_bytes += st.st_size
    if len(scan.files) > MAX_IMAGES:
        raise DatasetUnavailable(
            f"{shown(str(scan.root))} holds more than {MAX_IMAGES:,} images; the limit is {MAX_IMAGES:,}."
        )
    if scan.total_bytes > MAX_TOTAL_BYTES:
        limit = amount(MAX_TOTAL_BYTES)
        raise DatasetUnavailable(f"{shown(str(scan.root))} holds more than {limit} of images; the limit is {limit}.")


def amount(n: int) -> str:
    """A byte count for a message."""
    if n >= 2**30:
        return f"{n / 2**30:,.0f} GB"
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n:,} bytes"


def _skip(scan: Scan, name: str, reason: str) -> None:
    scan.skipped.append((name, reason))


def _is_dir(e) -> bool:
    try:
        return e.is_dir()  # follows a link (one inside the folder: the others were skipped)
    except OSError:
        return False


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as surrogate escapes
        return False
    return True


def _inside(root: Path, path: str) -> bool:
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return False
    return real == str(root) or real.startswith(str(root).rstrip(os.sep) + os.sep)
