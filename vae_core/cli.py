"""What both command lines share: one JSON line on stdout, one human line on failure."""

from __future__ import annotations

import json
import sys


def emit_json(obj: dict) -> None:
    """The last line on stdout is one JSON object (progress bars go to stderr)."""
    print(json.dumps(obj, allow_nan=False), flush=True)


def fail(error: BaseException) -> int:
    """One line of explanation on stderr and a non-zero exit, no traceback."""
    print(f"error: {error}", file=sys.stderr, flush=True)
    return 2
