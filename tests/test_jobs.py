import threading

import pytest
import torch

import vae_core
from vae_core.jobs import JobManager
from vae_core.models import ModelConfig
from vae_core.train import TrainConfig


def small(kind="vae", epochs=1, **kw):
    return ModelConfig(kind=kind, latent_dim=2, hidden=(32,), image_shape=(1, 8, 8)), TrainConfig(epochs=epochs, **kw)


def test_a_job_trains_and_saves_a_loadable_checkpoint(tmp_path):
    manager = JobManager()
    mcfg, tcfg = small(epochs=2)
    job = manager.submit(mcfg, tcfg, "digits", tmp_path / "a.safetensors")
    snap = manager.wait(job.id, timeout=120)
    assert snap["state"] == "done", snap["message"]
    assert len(snap["history"]) == 2 and snap["codes"] and snap["step"] == snap["total_steps"]
    model, meta = vae_core.load_checkpoint(tmp_path / "a.safetensors")
    assert meta["kind"] == "vae" and len(meta["history"]) == 2


def test_cancel_stops_quickly_and_writes_nothing(tmp_path):
    manager = JobManager()
    mcfg, tcfg = small(epochs=500)
    job = manager.submit(mcfg, tcfg, "digits", tmp_path / "c.safetensors")
    while (manager.snapshot(job.id)["step"] or 0) < 3:
        threading.Event().wait(0.01)
    manager.cancel(job.id)
    snap = manager.wait(job.id, timeout=5)
    assert snap["state"] == "cancelled"
    assert snap["epoch"] < 500
    assert list(tmp_path.iterdir()) == []


def test_second_job_waits_in_the_queue_and_one_file_has_one_writer(tmp_path):
    manager = JobManager()
    mcfg, tcfg = small(epochs=3)
    first = manager.submit(mcfg, tcfg, "digits", tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match="already being written"):
        manager.submit(mcfg, tcfg, "digits", tmp_path / "a.safetensors")
    second = manager.submit(mcfg, tcfg, "digits", tmp_path / "b.safetensors")
    assert "Queued behind 1" in manager.snapshot(second.id)["message"]
    a, b = manager.wait(first.id, 120), manager.wait(second.id, 120)
    assert a["state"] == b["state"] == "done"
    assert a["finished"] <= b["started"]  # one at a time


def test_shipped_folder_is_never_written(tmp_path):
    manager = JobManager(protected_dirs=[tmp_path])
    mcfg, tcfg = small()
    with pytest.raises(ValueError, match="never overwritten"):
        manager.submit(mcfg, tcfg, "digits", tmp_path / "vae-z2.safetensors")


def test_diverging_training_fails_with_a_message_and_no_file(tmp_path):
    manager = JobManager()
    mcfg, tcfg = small(epochs=20, lr=1e12)
    job = manager.submit(mcfg, tcfg, "digits", tmp_path / "d.safetensors")
    snap = manager.wait(job.id, 120)
    assert snap["state"] == "failed" and "diverged" in snap["message"]
    assert not (tmp_path / "d.safetensors").exists()


def test_simultaneous_submissions_for_one_file_get_exactly_one_writer(tmp_path):
    manager = JobManager()
    mcfg, tcfg = small(epochs=1)
    start, accepted, refused = threading.Barrier(8), [], []

    def submit():
        start.wait()
        try:
            accepted.append(manager.submit(mcfg, tcfg, "digits", tmp_path / "same.safetensors"))
        except ValueError as e:
            refused.append(str(e))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 1 and len(refused) == 7
    assert manager.wait(accepted[0].id, 120)["state"] == "done"


def test_bf16_mixed_precision_trains_to_a_finite_fp32_model(tmp_path):
    manager = JobManager()
    mcfg, tcfg = small(epochs=2, precision="bf16")
    job = manager.submit(mcfg, tcfg, "digits", tmp_path / "m.safetensors")
    assert manager.wait(job.id, 120)["state"] == "done"
    model, meta = vae_core.load_checkpoint(tmp_path / "m.safetensors")
    assert meta["train_config"]["precision"] == "bf16"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert meta["metrics"]["neg_elbo"] < meta["history"][0]["train_loss"] * 2  # finite and sane
