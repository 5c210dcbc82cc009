"""What the command lines share: one JSON line on stdout, one human line on failure.

- `OneLineParser`: argparse that raises UsageError instead of printing usage + exiting, so a
  bad value is the same one line as any other bad setting.
- `sigterm_as_exit`: SIGTERM (a scheduler's stop, `kill`, torchrun's shutdown) becomes a normal
  Python exit, so `finally` blocks run: save_checkpoint removes its temporary file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading


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


def run_until_sigterm(body, argv) -> int:
    """`body(argv)` with SIGTERM as one line on stderr and exit status 128 + 15, no traceback:
    the main() of every command that has nothing to save when it is stopped."""
    with sigterm_as_exit():
        try:
            return body(argv)
        except Terminated as e:
            fail("terminated by SIGTERM.")
            return int(e.code)
