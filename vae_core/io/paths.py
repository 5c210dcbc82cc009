"""An output path checked before any work: an unwritable destination is found before the first
epoch, not after an hour of training (the CLI, the job queue and the sweep all call it)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .atomic import TEMP_OVERHEAD

NAME_MAX = 255  # bytes in one file name on Linux/macOS file systems


def check_output_path(path) -> Path:
    """The checkpoint destination, checked before any work: a file name that fits, not a folder,
    in a folder that exists (or can be made) and accepts a new file. ValueError says which."""
    text = str(path)
    if not text.strip():
        raise ValueError("the output path is empty.")
    try:
        return _check_output_path(Path(text))
    except ValueError as e:  # our messages, or the OS's ("embedded null byte")
        if str(e).startswith("cannot write"):
            raise
        raise ValueError(f"cannot write {text[:80]!r}: {e}.") from None
    except OSError as e:  # a path too long for the OS, a folder we may not look into
        raise ValueError(f"cannot write {text[:80]!r}: {e.strerror or e}.") from None


def _check_output_path(p: Path) -> Path:
    name_bytes = len(os.fsencode(p.name))
    if not p.name or p.name in (".", ".."):
        raise ValueError(f"cannot write {p}: it names a folder, not a file.")
    if name_bytes > NAME_MAX - TEMP_OVERHEAD:
        raise ValueError(
            f"cannot write {p.name[:40]}…: the file name is {name_bytes} bytes long; "
            f"at most {NAME_MAX - TEMP_OVERHEAD} fit (with the temporary file's prefix)."
        )
    if p.is_dir():
        raise ValueError(f"cannot write {p}: it is a folder; give a file name such as {p / 'model.safetensors'}.")
    if p.exists() and not p.is_file():
        raise ValueError(f"cannot write {p}: it exists and is not a regular file.")
    folder = p.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"cannot write {p}: {existing} is not a folder.")
    if existing != folder:  # the folders will be made at save time; can they be?
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ValueError(f"cannot write {p}: no permission to create folders in {existing}.")
        return p
    try:  # the real test: a temporary file, as save_checkpoint will make
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".probe", dir=folder)
    except OSError as e:
        raise ValueError(f"cannot write {p}: {e.strerror or e}.") from None
    os.close(fd)
    os.unlink(probe)
    return p
