"""Atomic file writes whose temporary files name their writer, so leftovers can be cleaned.

The lowest room (beside _lazy): checkpoints and maps (vae_core.io) and the data sets' on-disk
caches (vae_core.data) write through it; `vae_core.io.atomic` is its public name.

A write goes to a hidden temporary file in the target's folder, is fsynced and renamed over
the target: readers see the old file or the new one, never half of one. A writer killed
mid-write (SIGKILL, power loss) leaves its temporary file behind; the name carries the writer's
pid and a tag of its host, so the next write into that folder (or a registry scan) removes the
ones whose writer is gone, and never one whose writer is still running.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

TEMP_RE = re.compile(r"^\..+\.(\d{1,12})-([0-9a-f]{8})-[a-z0-9_]+\.tmp$")
# Bytes a temporary name adds to its target's: "." + "." + pid (<= 12) + "-" + host tag (8) + "-"
# + mkstemp's random part (8) + ".tmp". A target name longer than NAME_MAX minus this cannot be saved.
TEMP_OVERHEAD = 2 + 12 + 1 + 8 + 1 + 8 + 4


def host_tag() -> str:
    """Pids are per machine: a folder shared over the network must not judge another host's writers."""
    return f"{zlib.crc32(socket.gethostname().encode('utf-8', 'replace')):08x}"


def atomic_write(path, write: Callable, durable: bool = True) -> Path:
    """write(f) into a temporary file beside `path`, then fsync and rename over it.

    durable=False skips the fsyncs: still atomic for readers, but a power cut may leave an empty
    or old file, which is fine for a cache that validates what it reads (and much faster)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-{host_tag()}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; checkpoints and maps are shareable files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)
    return path


def remove_stale_temps(folder) -> list[str]:
    """Delete this host's temporary files whose writer process no longer exists; their names."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    tag = host_tag()
    for entry in entries:
        m = TEMP_RE.match(entry.name)
        if m is None or m.group(2) != tag or pid_alive(int(m.group(1))):
            continue
        try:
            os.unlink(entry.path)
            removed.append(entry.name)
        except OSError:
            pass  # gone already, or a read-only folder: nothing to do
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie counts; a reused pid errs on the safe side)."""
    if pid == os.getpid():
        return True  # another thread of this process may be writing
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OverflowError:
        return False  # not a pid this system can have
    except OSError:
        return True  # EPERM: it exists, under another user
    return True


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
