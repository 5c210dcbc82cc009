"""Atomic file writes (the implementation lives in the lowest room, vae_core._atomic, so that the
data sets' caches in vae_core.data write through the same code as checkpoints; this is its public name)."""

from .._atomic import TEMP_OVERHEAD, TEMP_RE, atomic_write, fsync_dir, host_tag, pid_alive, remove_stale_temps

__all__ = ["TEMP_OVERHEAD", "TEMP_RE", "atomic_write", "fsync_dir", "host_tag", "pid_alive", "remove_stale_temps"]
