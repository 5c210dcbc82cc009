"""The app with bad files in the model folders, training beside browsing, and shared models untouched."""

import time

import torch
from streamlit.testing.v1 import AppTest
from support import ROOT, make_bad_files


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
    from ui.services import models
    from vae_core.model.config import ModelConfig
    from vae_core.training.config import TrainConfig

    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path))
    manager = models.job_manager()
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
        assert any(f"Job {job.id}: running" in m.value for m in other.markdown)
    finally:
        manager.cancel(job.id)
        assert manager.wait(job.id, timeout=10)["state"] == "cancelled"
    assert not (tmp_path / "bg.safetensors").exists()


def test_pages_leave_shared_models_and_global_randomness_untouched():
    from ui.services import models

    at = app()
    entry = next(e for e in models.model_entries() if e.path.stem == "vae-z2")
    model, _ = models.load_model(models.ModelRef.of(entry))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    for page in ("views/interpolate.py", "views/traverse.py", "views/compare.py"):
        at.switch_page(page).run()
        assert not at.exception
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.training and not any(p.requires_grad for p in model.parameters())
