"""A user's own model files, renamed or deleted: in their folder only, atomically, whatever name is asked for.

A file is touched only if it is a regular .safetensors file directly inside the one folder the
caller may change (the app passes its user folder, never the shipped one): no link, nothing in
a subfolder, nothing that resolves elsewhere. A new name is a file stem of ASCII letters,
digits, '.', '-' and '_', starting with a letter or a digit, short enough to be saved over
later (vae_core.io.paths): anything else is refused with one line saying what is allowed.

A rename never replaces a file: os.link makes the new name only if it does not exist yet (one
atomic step), then the old name goes; a reader sees the model under the old name, both or the
new one, never under none and never half a file. Where the file system has no hard links, an
existence check and os.rename do it, with a window in which a file made by someone else at
that very moment could be replaced.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

from .atomic import TEMP_OVERHEAD, fsync_dir
from .paths import NAME_MAX

SUFFIX = ".safetensors"
STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_STEM = NAME_MAX - TEMP_OVERHEAD - len(SUFFIX)  # bytes: the file must stay re-savable atomically
RULE = f"letters, digits, '.', '-' and '_', starting with a letter or a digit, at most {MAX_STEM} characters"


class ModelFileError(ValueError):
    """A rename or delete that was refused; the message is one line for a person."""


def own_file(folder, path) -> Path:
    """`path`, resolved, if it is a model file of the user's directly in `folder`; else ModelFileError."""
    p = Path(path)
    try:
        home = Path(folder).resolve(strict=True)
        if p.is_symlink():
            raise ModelFileError(f"{p.name} is a link; only your own model files can be changed.")
        if p.suffix != SUFFIX:
            raise ModelFileError(f"{p.name} is not a {SUFFIX} model file.")
        real = p.resolve(strict=True)
    except OSError as e:
        raise ModelFileError(f"{p.name}: {e.strerror or e}.") from None
    if real.parent != home:
        raise ModelFileError(f"{p.name} is not in your models folder ({home.name}/); it is never changed here.")
    if not real.is_file():
        raise ModelFileError(f"{p.name} is not a regular file.")
    return real


def check_stem(stem) -> str:
    """A new file stem, stripped of spaces (and of the suffix, if typed); ModelFileError if not allowed."""
    if not isinstance(stem, str):
        raise ModelFileError(f"A name is text: {RULE}.")
    stem = stem.strip()
    if stem.endswith(SUFFIX):
        stem = stem[: -len(SUFFIX)]
    if not stem:
        raise ModelFileError(f"The new name is empty; use {RULE}.")
    if len(stem) > MAX_STEM or not STEM.fullmatch(stem):
        shown = re.sub(r"[^A-Za-z0-9._-]", "?", stem[:40])
        raise ModelFileError(f"'{shown}' cannot be a model's name; use {RULE}.")
    return stem


def rename_model(folder, path, new_stem, claimed=()) -> Path:
    """Rename a model file of `folder` to NEW_STEM.safetensors in the same folder; the new path.

    claimed: paths that training jobs will write (a rename onto one would be overwritten)."""
    src = own_file(folder, path)
    dst = src.with_name(check_stem(new_stem) + SUFFIX)
    if dst == src:
        return src
    if any(Path(c).resolve() == dst for c in claimed):
        raise ModelFileError(f"{dst.name} is the file a training job will write; choose another name.")
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise ModelFileError(f"{dst.name} already exists; choose another name.") from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise ModelFileError(f"{src.name} could not be renamed: {e.strerror or e}.") from None
        return _rename_without_links(src, dst)
    src.unlink()
    fsync_dir(src.parent)
    return dst


def _rename_without_links(src: Path, dst: Path) -> Path:
    if dst.exists() or dst.is_symlink():
        raise ModelFileError(f"{dst.name} already exists; choose another name.")
    try:
        os.rename(src, dst)
    except OSError as e:
        raise ModelFileError(f"{src.name} could not be renamed: {e.strerror or e}.") from None
    fsync_dir(src.parent)
    return dst


def delete_model(folder, path) -> str:
    """Delete a model file of `folder`; its name."""
    src = own_file(folder, path)
    try:
        src.unlink()
    except OSError as e:
        raise ModelFileError(f"{src.name} could not be deleted: {e.strerror or e}.") from None
    fsync_dir(src.parent)
    return src.name
