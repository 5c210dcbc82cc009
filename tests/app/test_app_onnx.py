"""ONNX model folders in the app, through AppTest: the picker lists them (the shipped examples in
checkpoints/onnx/, the user's folder and its onnx/ subfolder), every page works with one picked
(live map on and off), Compare never lets an ONNX export displace a shipped original, and Train
says it cannot retrain one. The hostile folders are in test_app_hostile_onnx.py."""

import json
import shutil
import sys

import pytest
from streamlit.testing.v1 import AppTest
from support import ROOT, option_of

from ui.frame import probe
from ui.frame.pages import VIEW_FILES

sys.path.insert(0, str(ROOT / "tests" / "engine"))  # the ONNX graph builders the engine's tests use
from onnx_graphs import write_folder  # noqa: E402

SHIPPED_ONNX = ROOT / "checkpoints" / "onnx"


@pytest.fixture(autouse=True)
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path / "user_models"))
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", "0")
    return tmp_path / "user_models"


def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=300)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def pick(at: AppTest, stem: str) -> AppTest:
    box = at.sidebar.selectbox(key="model")
    box.select_index(option_of(box.options, stem)).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def onnx_trio(folder, dataset="digits", d=2):
    """Three tiny ONNX models (ae, kl, vae) of one latent size on one dataset (8x8 linear graphs)."""
    for kind in ("ae", "kl", "vae"):
        write_folder(folder / f"{kind}-z{d}-tiny-onnx", d, manifest_over={"kind": kind, "dataset": dataset})


def test_the_picker_lists_the_shipped_examples_and_the_users_folders(folders):
    write_folder(folders / "mine-onnx", manifest_over={"name": "mine"})
    write_folder(folders / "onnx" / "sub-onnx", manifest_over={"name": "in onnx/"})
    options = app().sidebar.selectbox(key="model").options
    for stem in ("vae-z2-onnx", "vae-z16-onnx"):
        assert any(f"· shipped — {stem} · VAE" in o and o.endswith(", ONNX") for o in options), (stem, options)
    for stem in ("mine-onnx", "sub-onnx"):
        assert any(f"· yours — {stem} ·" in o and ", ONNX" in o for o in options), (stem, options)
    assert any("— vae-z2 ·" in o for o in options)  # ours are still there


@pytest.mark.parametrize(
    "stem,live",
    [("vae-z2-onnx", "1"), ("vae-z16-onnx", "0"), ("ae-z2-tiny-onnx", "1")],
)
def test_every_page_works_with_an_onnx_model(stem, live, folders, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", live)
    onnx_trio(folders)  # an autoencoder (a point-mass encoder) on 8x8 digits, and the Compare trio
    at = pick(app(), stem)
    assert f"Showing **{stem}**" in at.sidebar.caption[0].value and "an ONNX model" in at.sidebar.caption[0].value
    for toggle in at.toggle:  # σ ellipses, prior samples, holes, 3-D view
        toggle.set_value(True)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    for page in VIEW_FILES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert not at.warning, (page, [w.value for w in at.warning])
    at.switch_page("views/interpolate.py").run()
    assert probe.read(at, "interp_images") == at.slider(key="interp_steps").value


def test_compare_keeps_the_shipped_originals_and_shows_an_onnx_trio_for_an_onnx_model(folders):
    """ONNX copies of the shipped z = 2 trio (newer, same dataset) do not displace the originals;
    for an ONNX model the trio is ONNX (shipped ONNX first, as for ours: the shipped vae-z2-onnx)."""
    for kind in ("ae", "kl", "vae"):
        copy = shutil.copytree(SHIPPED_ONNX / "vae-z2-onnx", folders / f"{kind}-z2-copy-onnx")
        manifest = json.loads((copy / "model.json").read_text())
        (copy / "model.json").write_text(json.dumps({**manifest, "kind": kind, "name": copy.name}))
    at = app()
    at.switch_page("views/compare.py").run()
    assert not at.exception and probe.read(at, "compare_models") == ["ae-z2", "kl-z2", "vae-z2"]
    from ui.services import models

    trios = models.model_trios((1, 28, 28), "mnist5k", prefer_format="onnx")
    assert [trios[2][k].path.name for k in ("ae", "kl", "vae")] == [
        "ae-z2-copy-onnx",
        "kl-z2-copy-onnx",
        "vae-z2-onnx",
    ]
    assert [e.stem for e in models.model_trios((1, 28, 28), "mnist5k")[2].values()] == ["ae-z2", "kl-z2", "vae-z2"]


def test_three_onnx_models_on_one_dataset_are_compared(folders):
    onnx_trio(folders)
    at = pick(app(), "vae-z2-tiny-onnx")
    at.switch_page("views/compare.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert probe.read(at, "compare_models") == ["ae-z2-tiny-onnx", "kl-z2-tiny-onnx", "vae-z2-tiny-onnx"]
    assert at.table, "the measures' table is missing"


def test_train_says_plainly_it_cannot_retrain_an_onnx_model():
    at = pick(app(), "vae-z2-onnx")
    at.switch_page("views/train.py").run()
    assert any("cannot retrain" in i.value and "vae-z2-onnx" in i.value for i in at.info), [i.value for i in at.info]
    at = pick(app(), "vae-z2")
    at.switch_page("views/train.py").run()
    assert not any("cannot retrain" in i.value for i in at.info)


def test_a_graph_too_large_for_a_browser_is_decoded_on_the_server(monkeypatch):
    from ui.livemap import publish

    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", "1")
    monkeypatch.setattr(publish, "MAX_BROWSER_GRAPH_BYTES", 2**20)  # the shipped graph is 1.03 MB
    at = pick(app(), "vae-z2-onnx")
    notes = [c.value for c in at.caption if "not sent to the browser" in c.value]
    assert notes and notes[0].startswith("No decoding under the pointer: The decoder's graph is 1.0 MB"), notes
    at.switch_page("views/traverse.py").run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("Decoded on the server: The decoder's graph") for c in at.caption)
    assert any(s.key and s.key.startswith("sl_") for s in at.slider)  # the server's sliders


def test_a_shared_link_opens_an_onnx_model_and_an_upload_is_encoded_by_it():
    import io

    import numpy as np
    from PIL import Image

    from vae_core.data import load_dataset
    from vae_core.io.projection_cache import file_digest

    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=300)
    at.query_params["model"] = file_digest(SHIPPED_ONNX / "vae-z16-onnx")[:12]  # a folder's content id
    at.run()
    assert not at.exception and "Showing **vae-z16-onnx**" in at.sidebar.caption[0].value
    digit = load_dataset("mnist5k", "val").images[0, 0].numpy()
    buf = io.BytesIO()
    Image.fromarray((255 - digit * 255).astype(np.uint8)).resize((200, 200)).save(buf, "PNG")
    at.switch_page("views/encode.py").run()
    at.file_uploader(key="enc_upload").upload("digit.png", buf.getvalue(), "image/png").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    mean = probe.read(at, "encoded_mean")
    assert len(mean) == 16 and np.isfinite(mean).all()
