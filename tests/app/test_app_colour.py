"""Every page with a conv model of each kind trained one epoch on a tiny colour image folder
(issue 20: "a conv model of each kind ... shown on every page"). The folder lies under the
allow-listed data root (VAE_EXPLORER_DATA_ROOT); the models are trained once per session through
the CLI (tests/conftest.py colour_models)."""

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from support import ROOT

from ui.frame import probe
from ui.frame.pages import VIEW_FILES

TIMEOUT = 600  # the first page of a model encodes its folder and loads torch on a busy 2-core machine


@pytest.fixture(autouse=True)
def colour_env(colour_models, tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(colour_models["models"]))
    monkeypatch.setenv("VAE_EXPLORER_DATA_ROOT", str(colour_models["data_root"]))
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(colour_models["cache"]))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", "0")
    return colour_models


def app_with(stem: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=TIMEOUT)
    at.run()
    box = at.sidebar.selectbox(key="model")
    box.select_index(next(i for i, o in enumerate(box.options) if f"— {stem} ·" in o)).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def ok(at: AppTest, page: str) -> None:
    assert not at.exception, (page, [e.message for e in at.exception])
    assert not at.error, (page, [e.value for e in at.error])


def rgb_png(size=(90, 60)) -> bytes:
    """A red disc on green: an upload in colour, and not of the folder's size."""
    img = Image.new("RGB", size, (30, 160, 40))
    arr = np.asarray(img).copy()
    yy, xx = np.mgrid[: size[1], : size[0]]
    arr[(yy - size[1] // 2) ** 2 + (xx - size[0] // 2) ** 2 < 400] = (220, 30, 30)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def test_the_folder_is_offered_only_from_the_allow_listed_root(colour_models, monkeypatch):
    at = app_with("vae-z2-colour")
    box = at.sidebar.selectbox(key=next(k for k in _keys(at) if k.startswith("data_name@")))
    assert box.value == f"folder:{colour_models['folder'].resolve()}@3x32", box.value
    assert box.options[0] == "shapes3 (folder, 32×32 colour)", box.options  # its name, not the server's path
    monkeypatch.setenv("VAE_EXPLORER_DATA_ROOT", str(colour_models["folder"] / "red-discs"))
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=TIMEOUT).run()
    labels = at.sidebar.selectbox(key="model").options
    assert not any("vae-z2-colour" in label for label in labels), "a folder outside the root was offered"


def _keys(at):
    return [s.key for s in at.sidebar.selectbox if s.key]


@pytest.mark.parametrize("live", ["0", "1"])
@pytest.mark.parametrize("stem", ["vae-z2-colour", "ae-z2-colour", "kl-z2-colour"])
def test_every_page_shows_a_colour_conv_model(stem, live, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", live)  # 1: the live map's assets are built (AppTest runs no JS)
    at = app_with(stem)
    assert f"Showing **{stem}**" in at.sidebar.caption[0].value
    ok(at, "latent map")
    for page in VIEW_FILES[1:]:
        at.switch_page(page).run()
        ok(at, page)
        assert at.title, (page, "the page drew nothing")


def test_pages_draw_in_colour_and_say_what_they_cannot_do():
    at = app_with("vae-z2-colour")
    at.switch_page("views/traverse.py").run()
    ok(at, "traverse")
    assert np.asarray(probe.read(at, "traverse_shape"))[0] == 3
    at.switch_page("views/interpolate.py").run()
    ok(at, "interpolate")
    assert probe.read(at, "interp_channels") == 3
    at.switch_page("views/sample.py").run()
    ok(at, "sample")
    why = [e.value for e in at.info if "No classifier" in e.value]
    assert why and "your own image folder" in why[0], [e.value for e in at.info]
    at.switch_page("views/compare.py").run()
    ok(at, "compare")
    assert probe.read(at, "compare_models") == ["ae-z2-colour", "kl-z2-colour", "vae-z2-colour"]


def test_an_upload_is_prepared_like_the_folders_images_in_colour():
    at = app_with("vae-z2-colour")
    at.switch_page("views/encode.py").run()
    ok(at, "encode")
    at.file_uploader(key="enc_upload").upload("disc.png", rgb_png(), "image/png").run()
    ok(at, "encode upload")
    assert tuple(probe.read(at, "encoded_input_shape")) == (3, 32, 32)
    mean = probe.read(at, "encoded_mean")
    assert len(mean) == 2 and np.isfinite(mean).all()


def test_gif_and_png_exports_of_a_colour_model_keep_their_colour(colour_models):
    import torch

    import vae_core
    from ui.render import exports

    model, _ = vae_core.load_checkpoint(colour_models["paths"]["vae"])
    with torch.inference_mode():
        images = model.decode(torch.randn(6, 2, generator=torch.Generator().manual_seed(0)))
    assert images.shape[1:] == (3, 32, 32)
    gif = Image.open(io.BytesIO(exports.gif(images)))
    png = Image.open(io.BytesIO(exports.png_strip(images, nrow=6)))
    for img in (gif.convert("RGB"), png.convert("RGB")):
        a = np.asarray(img).astype(int)
        assert np.abs(a[..., 0] - a[..., 1]).max() > 0, "the export lost its colour"
