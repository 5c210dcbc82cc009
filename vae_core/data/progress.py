"""A progress callback for long first-time work (decoding a folder, generating shapes): the
caller's `progress(done, total)`, or a tqdm bar on stderr that appears only once work starts."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_bar(description: str, progress=None):
    """Yields a `(done, total)` callback: `progress` itself, or one feeding a tqdm bar (closed on exit)."""
    if progress is not None:
        yield progress
        return
    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, desc=description, file=sys.stderr, unit="it", leave=False)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
