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
    at.run()  # the Train page shows the finished job and its film, of the folder's images
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not any("No film" in c.value for c in at.caption)
    assert any(saved[0].stem in label for label in at.sidebar.selectbox(key="model").options)


def zipped(folder, extra: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(folder.rglob("*.png")):
            zf.write(path, f"mine/{path.relative_to(folder)}")
        for name, blob in extra.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def test_a_zip_uploaded_on_the_train_page_becomes_a_folder_to_train_on(tmp_path, monkeypatch):
    """A browser's zip is extracted safely into the app's uploads folder (nothing out of it: a
    member climbing out is refused by name), offered and chosen under Dataset; the same zip again
    is the same folder; a file that is not a zip is one line, nothing written."""
    from ui import settings
    from ui.services import data

    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path / "user_models"))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", "0")
    monkeypatch.delenv("VAE_EXPLORER_DATA_ROOT", raising=False)
    blobs = make_colour_folder(tmp_path / "src", per_class=5)
    blob = zipped(blobs, {"../escape.png": b"\x89PNG not really", "notes.txt": b"hello"})
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=600)
    at.run()
    at.switch_page("views/train.py").run()
    at.file_uploader(key="tr_zip").upload("my images.zip", blob, "application/zip").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Extracted 15 images into my-images-" in s.value for s in at.success), [s.value for s in at.success]
    chosen = at.selectbox(key="tr_data").value
    folder = settings.allowed_folder(chosen.removeprefix("folder:"))
    assert folder is not None and folder.parent == settings.uploads_dir().resolve()
    assert sorted(p.name for p in folder.iterdir()) == ["blue-bars", "green-squares", "red-discs"]
    assert not (tmp_path / "cache" / "escape.png").exists() and not list(tmp_path.rglob("escape.png"))
    assert data.folders() == [chosen]
    assert data.extract_upload("my images.zip", blob) == (chosen, f"{folder.name} was uploaded before: using it.")
    at2 = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=600)
    at2.run()
    at2.switch_page("views/train.py").run()
    at2.file_uploader(key="tr_zip").upload("bad.zip", b"PK not a zip at all", "application/zip").run()
    assert not at2.exception
    assert [e.value for e in at2.error] == ["This file is not a zip archive (or it is damaged)."]
    assert data.folders() == [chosen]  # nothing new written


def test_a_jobs_film_follows_its_folder_only_while_the_folder_may_be_read(data_root, tmp_path):
    """A finished job of a folder that was moved, deleted or is no longer under an allow-listed
    root shows "No film" on the Train page instead of raising (found when one test's job stayed
    in the server's list for the next)."""
    from ui.sections.train import film_data

    job = {"dataset": f"folder:{data_root / 'blobs'}", "image_shape": (3, 32, 32)}
    assert film_data(job) == f"folder:{(data_root / 'blobs').resolve()}@3x32"
    assert film_data({**job, "dataset": f"folder:{tmp_path / 'elsewhere'}"}) is None
    assert film_data({"dataset": "mnist5k", "image_shape": (1, 28, 28)}) == "mnist5k"
