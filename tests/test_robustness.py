"""Interrupted saves, bad files in the model folders, training beside browsing, shared models."""

import pickle
import signal
import subprocess
import sys
import textwrap
import time

import torch
from conftest import ROOT
from streamlit.testing.v1 import AppTest

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


def make_bad_files(folder, good_model):
    folder.mkdir(parents=True, exist_ok=True)
    good = vae_core.save_checkpoint(good_model, folder / "good.safetensors", {"dataset": "digits"})
    blob = good.read_bytes()
    (folder / "empty.safetensors").write_bytes(b"")
    (folder / "truncated.safetensors").write_bytes(blob[: len(blob) - 100])
    (folder / "notes.safetensors").write_text("not a model")
    (folder / "evil.pt").write_bytes(pickle.dumps({"x": 1}))
    (folder / "evil.safetensors").write_bytes(pickle.dumps({"x": 1}))
    return good


def test_the_registry_lists_bad_files_with_reasons_and_keeps_the_good_ones(tmp_path, tiny_model):
    make_bad_files(tmp_path, tiny_model())
    entries = {e.path.name: e for e in scan(tmp_path)}
    assert entries["good.safetensors"].ok
    reasons = {name: e.error for name, e in entries.items() if not e.ok}
    assert "empty" in reasons["empty.safetensors"]
    assert "truncated" in reasons["truncated.safetensors"]
    assert "not a safetensors" in reasons["notes.safetensors"]
    assert "pickle" in reasons["evil.pt"] and "pickle" in reasons["evil.safetensors"]


def app(page=None):
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=180)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def test_the_app_lists_bad_files_and_keeps_working(tmp_path, monkeypatch, tiny_model):
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path))
    make_bad_files(tmp_path, tiny_model())
    at = app()
    assert not at.exception and at.title[0].value == "Latent map"
    captions = " ".join(t.value for t in at.sidebar.text)
    for word in ("empty", "truncated", "pickle"):
        assert word in captions
    assert any("vae-z2" in label for label in at.sidebar.selectbox(key="model").options)


def test_training_settings_outside_the_engines_bounds_cannot_be_submitted(tmp_path, monkeypatch):
    """The form's fields carry the engine's own bounds, so an out-of-range value never reaches a job
    (Streamlit refuses it at the widget); the engine refuses it too (tests/test_train_bounds.py)."""
    from vae_core.model.config import MAX_BETA, MAX_LATENT_DIM
    from vae_core.training.config import BOUNDS

    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path))
    fields = {"tr_d": (1, MAX_LATENT_DIM, 0), "tr_beta": (0.0, MAX_BETA, -1.0), "tr_epochs": (*BOUNDS["epochs"], 0)}
    for key, (low, high, bad) in fields.items():
        at = app("views/train.py")
        box = at.number_input(key=key)
        assert (box.proto.min, box.proto.max) == (low, high), key
        box.set_value(bad).run()
        assert not at.exception
        assert low <= at.number_input(key=key).value <= high, key  # Streamlit kept an in-range value
    assert list(tmp_path.iterdir()) == []


def test_pages_render_while_a_job_trains_and_the_job_outlives_the_session(tmp_path, monkeypatch):
    from ui import state
    from vae_core.model.config import ModelConfig
    from vae_core.training.config import TrainConfig

    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path))
    manager = state.job_manager()
    job = manager.submit(ModelConfig(latent_dim=16), TrainConfig(epochs=50), "mnist5k", tmp_path / "bg.safetensors")
    try:
        while manager.snapshot(job.id)["state"] != "running":
            time.sleep(0.05)
        t0 = time.perf_counter()
        at = app("views/traverse.py")  # a fresh session, while the job trains
        render_s = time.perf_counter() - t0
        assert not at.exception and at.title[0].value == "Traverse"
        assert manager.snapshot(job.id)["state"] == "running"  # the page did not wait for the job
        print(f"page render during training: {render_s:.2f} s")
        other = app("views/train.py")  # another new session sees the running job
        assert any(f"Job {job.id}" in p.proto.text for p in other.get("progress") if hasattr(p, "proto"))
    finally:
        manager.cancel(job.id)
        assert manager.wait(job.id, timeout=10)["state"] == "cancelled"
    assert not (tmp_path / "bg.safetensors").exists()


def test_pages_leave_shared_models_and_global_randomness_untouched():
    from ui import state

    at = app()
    entry = next(e for e in state.model_entries() if e.path.stem == "vae-z2")
    model, _ = state.load_model(str(entry.path), entry.mtime)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    for page in ("views/interpolate.py", "views/traverse.py", "views/compare.py"):
        at.switch_page(page).run()
        assert not at.exception
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.training and not any(p.requires_grad for p in model.parameters())
