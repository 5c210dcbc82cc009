"""IDX files (LeCun's MNIST format), read without trusting them.

A truncated header, a wrong number of dimensions, a count that disagrees with the data, a ".gz"
that is not gzip each give one DatasetUnavailable line naming the file, never a traceback;
memory follows the bytes present, not what the header claims.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import stat
import struct
import zlib
from pathlib import Path

import numpy as np

MAX_IDX_VALUES = 256 * 2**20  # the most bytes of data an IDX file may declare (MNIST's largest is 47 MB)


class DatasetUnavailable(RuntimeError):
    """The data set's files are not here and cannot be downloaded; the message says where to put them."""


def read_idx(path: Path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzipped or not, into a uint8 array.

    Every way the file can be wrong is one DatasetUnavailable naming it: not IDX, not gzip though
    named .gz, a truncated header, `ndim` not as expected, more or fewer values than declared.
    """
    try:
        with _open_idx(Path(path)) as f:
            head = f.read(4)
            if len(head) < 4 or head[:3] != b"\x00\x00\x08":
                raise DatasetUnavailable(f"{path} is not an unsigned-byte IDX file.")
            nd = head[3]
            if nd < 1 or (ndim is not None and nd != ndim):
                raise DatasetUnavailable(f"{path} has {nd} dimensions; expected {ndim or 'at least 1'}.")
            raw = f.read(4 * nd)
            if len(raw) < 4 * nd:
                raise DatasetUnavailable(f"{path} is truncated inside its header.")
            dims = struct.unpack(f">{nd}I", raw)
            n = math.prod(dims)
            if n > MAX_IDX_VALUES:
                raise DatasetUnavailable(f"{path} declares {n:,} values; the limit is {MAX_IDX_VALUES:,}.")
            body = _read_at_most(f, n + 1)
    except DatasetUnavailable:
        raise
    except (OSError, EOFError, zlib.error, ValueError) as e:  # BadGzipFile is an OSError
        raise DatasetUnavailable(f"{path} cannot be read ({e}).") from None
    if len(body) < n:
        raise DatasetUnavailable(f"{path} is truncated: expected {n:,} values, found {len(body):,}.")
    if len(body) > n:
        raise DatasetUnavailable(f"{path} has more data than the {n:,} values its header declares.")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _read_at_most(f, n: int) -> bytearray:
    """Up to n bytes, in 1 MB steps: memory follows the data present, not what the header claims."""
    out = bytearray()
    while len(out) < n:
        chunk = f.read(min(2**20, n - len(out)))
        if not chunk:
            break
        out += chunk
    return out


@contextlib.contextmanager
def _open_idx(path: Path):
    """The file, decompressed if it is gzip (by content); refused if named .gz and it is not."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO named like an IDX file must not hang us
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DatasetUnavailable(f"{path} is not a regular file.")
        magic = f.read(2)
        f.seek(0)
        if magic == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                yield g
        elif path.suffix == ".gz":
            raise DatasetUnavailable(f"{path} is named .gz but is not gzip-compressed.")
        else:
            yield f
