import threading

import pytest
import torch

import vae_core
from vae_core.model.config import ModelConfig
from vae_core.runs.jobs import JobManager
from vae_core.training.config import TrainConfig


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
    mcfg, tcfg = small(epochs=20, lr=10.0)
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


def test_only_the_owner_cancels_and_everyone_sees_the_whole_list(tmp_path):
    manager = JobManager()
    mcfg, tcfg = small(epochs=500)
    mine = manager.submit(mcfg, tcfg, "digits", tmp_path / "mine.safetensors", owner="session-a")
    queued = manager.submit(mcfg, small(epochs=1)[1], "digits", tmp_path / "q.safetensors", owner="session-a")
    assert manager.cancel(mine.id, "session-b") is False and manager.cancel(mine.id) is False
    assert manager.cancel(queued.id, "session-b") is False
    assert manager.snapshot(mine.id)["state"] in ("queued", "running")
    assert [j["own"] for j in manager.jobs("session-b")] == [False, False]
    assert [j["own"] for j in manager.jobs("session-a")] == [True, True]
    assert manager.cancel(queued.id, "session-a") is True
    assert manager.cancel(mine.id, "session-a") is True
    assert manager.wait(mine.id, 60)["state"] == "cancelled"
    states = {j["id"]: j["state"] for j in manager.jobs()}
    assert states == {mine.id: "cancelled", queued.id: "cancelled"}  # ended jobs stay listed
    assert manager.cancel(mine.id, "session-a") is False  # nothing left to cancel
    assert "owner" not in manager.snapshot(mine.id)  # the token is never shown to other sessions


def test_snapshot_reports_elapsed_eta_throughput_and_the_saved_path(tmp_path):
    manager = JobManager()
    mcfg, tcfg = small(epochs=400)
    job = manager.submit(mcfg, tcfg, "digits", tmp_path / "eta.safetensors", owner="s")
    while (manager.snapshot(job.id)["step"] or 0) < 20:
        threading.Event().wait(0.01)
    snap = manager.snapshot(job.id)
    assert snap["state"] == "running" and snap["saved"] is None
    assert snap["elapsed_s"] > 0 and snap["samples_per_s"] > 0 and snap["eta_s"] > 0
    # the ETA is the time per step so far times the steps left: it cannot be below their count x 0
    per_step = snap["eta_s"] / (snap["total_steps"] - snap["step"])
    assert per_step < snap["elapsed_s"]
    manager.cancel(job.id, "s")
    manager.wait(job.id, 60)

    short = manager.submit(mcfg, small(epochs=2)[1], "digits", tmp_path / "done.safetensors")
    done = manager.wait(short.id, 120)
    assert done["state"] == "done" and done["eta_s"] == 0.0
    assert done["saved"] == str((tmp_path / "done.safetensors").resolve())
    assert vae_core.load_checkpoint(done["saved"])[1]["train_config"]["epochs"] == 2


def test_the_film_grows_during_training_and_is_saved_with_the_model(tmp_path):
    from vae_core.io.checkpoint import read_extras

    manager = JobManager()
    mcfg, tcfg = small(epochs=3)
    job = manager.submit(mcfg, tcfg, "digits", tmp_path / "film.safetensors")
    snap = manager.wait(job.id, 120)
    assert snap["state"] == "done"
    assert snap["film_epochs"] == [0, 1, 2, 3] and snap["film_codes"].shape == (4, 179, 2)
    assert len(snap["codes"]) == 179 and snap["codes"][0][2] == int(snap["film_labels"][0])
    extras = read_extras(tmp_path / "film.safetensors")
    assert torch.equal(extras["film_codes"], snap["film_codes"])
    assert extras["film_epochs"].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "out,message",
    [
        ("/dev/null/models/x.safetensors", "not a folder"),
        ("{tmp}", "is a folder"),
        ("{tmp}/" + "n" * 300 + ".safetensors", "bytes long"),
    ],
)
def test_an_unwritable_destination_is_refused_at_submission(tmp_path, out, message):
    manager = JobManager()
    mcfg, tcfg = small()
    with pytest.raises(ValueError, match=message):
        manager.submit(mcfg, tcfg, "digits", out.replace("{tmp}", str(tmp_path)))
    assert manager.jobs() == [] and list(tmp_path.iterdir()) == []


def test_the_same_session_cannot_queue_the_same_training_twice(tmp_path):
    """Enter in a form field then the button, or a double click: one job, not two."""
    manager = JobManager()
    mcfg, tcfg = small(epochs=500)
    first = manager.submit(mcfg, tcfg, "digits", tmp_path / "a.safetensors", owner="session-a")
    with pytest.raises(ValueError, match=rf"same training is already (queued|running) \(job {first.id}\)"):
        manager.submit(mcfg, tcfg, "digits", tmp_path / "b.safetensors", owner="session-a")
    other = manager.submit(mcfg, tcfg, "digits", tmp_path / "c.safetensors", owner="session-b")  # another user may
    changed = manager.submit(mcfg, small(epochs=499)[1], "digits", tmp_path / "d.safetensors", owner="session-a")
    assert len(manager.jobs()) == 3 and not (tmp_path / "b.safetensors").exists()
    for job, owner in ((first, "session-a"), (other, "session-b"), (changed, "session-a")):
        assert manager.cancel(job.id, owner)
    assert all(manager.wait(j.id, 60)["state"] == "cancelled" for j in (first, other, changed))
    again = manager.submit(mcfg, tcfg, "digits", tmp_path / "e.safetensors", owner="session-a")  # once ended: allowed
    assert manager.cancel(again.id, "session-a") and manager.wait(again.id, 60)["state"] == "cancelled"
