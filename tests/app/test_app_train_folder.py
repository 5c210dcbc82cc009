"""The Train page trains on an image folder of the allow-listed root (issue 20): the folder is
offered by name (never typed), its form (size, colour) and the network chosen on the page; the
job's model is a conv model of that folder's colour images and joins the picker."""

import pytest
from streamlit.testing.v1 import AppTest
from support import ROOT, make_colour_folder

from vae_core.io.header import read_meta


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    make_colour_folder(root / "blobs", per_class=20)
    (root / ".hidden").mkdir()
    (root / "MNIST").mkdir()  # torchvision's raw files: not offered as an image folder
    monkeypatch.setenv("VAE_EXPLORER_DATA_ROOT", str(root))
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path / "user_models"))
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", "0")
    return root


def test_a_folder_of_the_data_root_trains_a_conv_model_from_the_train_page(data_root, tmp_path):
    from ui.services import data, models

    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=600)
    at.run()
    at.switch_page("views/train.py").run()
    box = at.selectbox(key="tr_data")
    folder = f"folder:{(data_root / 'blobs').resolve()}"
    assert data.folders() == [folder]  # not .hidden, not torchvision's MNIST/
    assert box.options[-1] == "blobs" and ".hidden" not in box.options, box.options  # shown by its name
    box.set_value(folder)
    at.selectbox(key="tr_size").set_value(32)
    at.number_input(key="tr_d").set_value(2)
    at.number_input(key="tr_epochs").set_value(1)
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    newest = models.job_manager().jobs()[0]
    assert newest["dataset"] == folder
    snap = models.job_manager().wait(newest["id"], timeout=900)
    assert snap["state"] == "done", snap["message"]
    saved = list((tmp_path / "user_models").glob("vae-z2-blobs-*.safetensors"))
    assert len(saved) == 1
    meta = read_meta(saved[0])
    assert meta["model_config"]["arch"] == "conv" and tuple(meta["model_config"]["image_shape"]) == (3, 32, 32)
    at.run()
    assert any(saved[0].stem in label for label in at.sidebar.selectbox(key="model").options)
