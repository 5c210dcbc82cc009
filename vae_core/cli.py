"""What the command lines share: one JSON line on stdout, one human line on failure.

- `OneLineParser`: argparse that raises UsageError instead of printing usage + exiting, so a
  bad value is the same one line as any other bad setting.
- `check_output_path`: an unwritable destination is found before the first epoch, not after.
- `sigterm_as_exit`: SIGTERM (a scheduler's stop, `kill`, torchrun's shutdown) becomes a normal
  Python exit, so `finally` blocks run: save_checkpoint removes its temporary file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

NAME_MAX = 255  # bytes in one file name on Linux/macOS file systems
TEMP_OVERHEAD = 20  # save_checkpoint's temporary name: ".{name}.XXXXXXXX.tmp"


class UsageError(ValueError):
    """A command-line argument that argparse refused."""


class Terminated(SystemExit):
    """Raised in the main thread when the process receives SIGTERM."""


class OneLineParser(argparse.ArgumentParser):
    """No abbreviations either: `--epoch 3` is a typo to report, not `--epochs 3` to guess."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message):
        raise UsageError(message)


def emit_json(obj: dict) -> None:
    """The last line on stdout is one JSON object (progress bars go to stderr)."""
    print(json.dumps(obj, allow_nan=False), flush=True)


def fail(error: BaseException | str) -> int:
    """One line of explanation on stderr and a non-zero exit, no traceback."""
    text = " ".join(str(error).split())  # a message that spans lines is still one line
    print(f"error: {text}", file=sys.stderr, flush=True)
    return 2


@contextlib.contextmanager
def sigterm_as_exit():
    """Turn SIGTERM into `Terminated` (a SystemExit) while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
