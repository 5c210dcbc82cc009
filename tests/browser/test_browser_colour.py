"""A colour conv model in Chromium (issue 20): the app served with a tiny colour image folder under
its allow-listed data root and a conv VAE trained one epoch on it (tests/conftest.py colour_models).
The Latent map's hover image, the Traverse grid and an uploaded colour picture on Encode, at 1400
and 800 px.

Screenshots: test-artifacts/screenshots/colour-{map-hover,map,traverse,encode}-<width>.png.
"""

import io

import numpy as np
import pytest
from driver import WAIT_MS, goto, no_exception, settle, shot, wait_map
from look import drawn, hover_a_point, width

STEM = "vae-z2-colour"
# Whether a canvas in the map's frame holds colour: some pixel whose red and green differ.
CANVAS_IN_COLOUR = """(sel) => {
  const c = document.querySelector(sel);
  if (!c || !c.width) return false;
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 1]) > 24) return true;
  return false;
}"""


@pytest.fixture(scope="module")
def colour_server(colour_models, tmp_path_factory):
    from driver import start_server

    env = {
        "VAE_EXPLORER_USER_MODELS": str(colour_models["models"]),
        "VAE_EXPLORER_DATA_ROOT": str(colour_models["data_root"]),
        "VAE_EXPLORER_CACHE": str(tmp_path_factory.mktemp("colour_cache")),
    }
    proc, url = start_server("app.py", env, tmp_path_factory.mktemp("log") / "streamlit.log")
    yield url
    proc.terminate()
    proc.wait(10)


def pick_by_typing(pg, stem: str) -> None:
    """Choose a model as a user with a long list does: type its name into the picker, click it
    (the list is virtual: an option far down is not in the page until it is scrolled to)."""
    import re

    box = pg.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Model", exact=True)
    box.click()
    pg.keyboard.type(stem)
    pg.get_by_role("option", name=re.compile(rf"— {re.escape(stem)} ·")).first.click()
    settle(pg)


def upload_png() -> bytes:
    from PIL import Image

    arr = np.zeros((60, 90, 3), np.uint8)
    arr[:] = (30, 160, 40)
    yy, xx = np.mgrid[:60, :90]
    arr[(yy - 30) ** 2 + (xx - 45) ** 2 < 400] = (220, 30, 30)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("px", [1400, 800])
def test_a_colour_conv_model_in_the_browser(chromium, colour_server, px):
    ctx = chromium.new_context(viewport={"width": 1400, "height": 1800})
    try:
        pg = ctx.new_page()
        pg.goto(colour_server)
        settle(pg)
        width(pg, px)
        pick_by_typing(pg, STEM)
        drawn(pg)
        no_exception(pg)
        hover_a_point(pg, f"colour-map-hover-{px}")
        frame = wait_map(pg)
        assert frame.evaluate(CANVAS_IN_COLOUR, "[data-testid=lm-tip] canvas"), "the hover image is not in colour"
        shot(pg, f"colour-map-{px}")

        goto(pg, "Traverse")
        drawn(pg)
        no_exception(pg)
        shot(pg, f"colour-traverse-{px}", whole=True)

        goto(pg, "Encode")
        pg.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(
            {"name": "disc.png", "mimeType": "image/png", "buffer": upload_png()}
        )
        pg.get_by_text("centre-cropped and resized as the folder's images are").first.wait_for(timeout=WAIT_MS)
        settle(pg)
        drawn(pg)
        no_exception(pg)
        assert pg.locator('[data-testid="stAlertContentError"]').count() == 0
        shot(pg, f"colour-encode-{px}", whole=True)
    finally:
        ctx.close()
