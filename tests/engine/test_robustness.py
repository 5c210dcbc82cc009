"""Interrupted saves and bad files in the model folders: the engine keeps the good and names the bad."""

import signal
import subprocess
import sys
import textwrap
import time

from support import ROOT, make_bad_files

import vae_core
from vae_core.io.registry import scan

SAVER = textwrap.dedent("""
    import sys, torch
    sys.path.insert(0, {root!r})
    import vae_core
    from vae_core.model.mlp import VAE
    from vae_core.model.config import ModelConfig
    model = VAE(ModelConfig(latent_dim=8, hidden=(2048, 2048)), generator=torch.Generator().manual_seed(0))
    for i in range(1, 10_000):
        print(i, flush=True)          # "about to write version i"
        vae_core.save_checkpoint(model, {path!r}, {{"version": i}})
""")


def test_sigkill_during_save_leaves_the_previous_checkpoint_loadable(tmp_path):
    """Kill a real child process while it rewrites a ~40 MB checkpoint in a loop."""
    path = tmp_path / "model.safetensors"
    for delay in (0.05, 0.2, 0.5):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER.format(root=str(ROOT), path=str(path))], stdout=subprocess.PIPE, text=True
        )
        started = [proc.stdout.readline() for _ in range(3)]  # versions 1, 2 done; 3 is being written
        time.sleep(delay)  # land the kill somewhere inside a later write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert started[-1].strip() == "3"
        model, meta = vae_core.load_checkpoint(path)  # whatever version survived is whole
        assert meta["version"] >= 2 and model.config.hidden == (2048, 2048)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.safetensors"]
    assert all(name.startswith(".model.safetensors.") for name in leftovers)  # hidden temp files only
    assert [e.path.name for e in scan(tmp_path)] == ["model.safetensors"]  # never listed as models
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # and the killed writers' temps are gone


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from vae_core.io.atomic import atomic_write

    def write(f):
        f.write(b"half a checkpoint")
        f.flush()
        print("writing", flush=True)
        sys.stdin.readline()  # hold the temporary file open until the parent says so

    atomic_write({path!r}, write)
    print("done", flush=True)
""")


def test_temp_files_of_live_writers_are_kept_and_dead_ones_removed(tmp_path, tiny_model):
    """A live child process is mid-save: neither a scan nor another save may touch its temp file."""
    target = tmp_path / "slow.safetensors"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER.format(root=str(ROOT), path=str(target))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "writing"
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(temps) == 1 and f".{proc.pid}-" in temps[0].name  # the writer's pid is in the name
        scan(tmp_path)
        vae_core.save_checkpoint(tiny_model(), tmp_path / "other.safetensors")
        assert temps[0].exists()  # alive: kept
    finally:
        proc.kill()
        proc.wait()
    assert temps[0].exists()  # killed mid-write: the file stays behind ...
    assert [e.path.name for e in scan(tmp_path)] == ["other.safetensors"]
    assert not temps[0].exists()  # ... until the next scan, once its writer is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.safetensors"]


def test_a_finished_writer_renames_its_temp_file(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER.format(root=str(ROOT), path=str(tmp_path / "m.bin"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "writing"
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "done" and proc.wait() == 0
    assert [p.name for p in tmp_path.iterdir()] == ["m.bin"]
    assert (tmp_path / "m.bin").read_bytes() == b"half a checkpoint"


def test_the_registry_lists_bad_files_with_reasons_and_keeps_the_good_ones(tmp_path, tiny_model):
    make_bad_files(tmp_path, tiny_model())
    entries = {e.path.name: e for e in scan(tmp_path)}
    assert entries["good.safetensors"].ok
    reasons = {name: e.error for name, e in entries.items() if not e.ok}
    assert "empty" in reasons["empty.safetensors"]
    assert "truncated" in reasons["truncated.safetensors"]
    assert "not a safetensors" in reasons["notes.safetensors"]
    assert "pickle" in reasons["evil.pt"] and "pickle" in reasons["evil.safetensors"]
