"""A real browser on a real server: `streamlit run app.py`, driven with Playwright in Chromium.

Screenshots of every page land in test-artifacts/screenshots/ for a person to look at.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
NAV = ["Latent map", "Interpolate", "Traverse", "Encode", "Compare", "Train"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "VAE_EXPLORER_USER_MODELS": str(tmp_path_factory.mktemp("user_models"))}
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:  # poll the health endpoint until the server answers (or give up)
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None, "streamlit exited early"
        assert time.monotonic() < deadline, "streamlit did not start within 90 s"
        time.sleep(0.25)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Chromium missing: `make chromium` installs it (apt-get install chromium)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 2000})
        pg.goto(server)
        yield pg
        browser.close()


def settle(pg, title: str):
    """Wait until the page shows its title and the script has finished running."""
    pg.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
    pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    pg.wait_for_timeout(500)  # let plotly draw before the screenshot; no assertion depends on it


def no_exception(pg):
    boxes = pg.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def goto(pg, nav: str, title: str):
    pg.locator('[data-testid="stSidebarNav"]').get_by_text(nav, exact=True).click()
    settle(pg, title)


TITLES = {
    "Latent map": "Latent map",
    "Interpolate": "Interpolate",
    "Traverse": "Traverse",
    "Encode": "Encode your digit",
    "Compare": "AE vs KL-only vs VAE",
    "Train": "Train a model",
}


def test_every_page_opens_without_an_exception(page):
    for i, nav in enumerate(NAV):
        goto(page, nav, TITLES[nav])
        no_exception(page)
        page.screenshot(path=str(ARTIFACTS / f"{i + 1}-{nav.lower().replace(' ', '_')}.png"), full_page=True)


def test_moving_a_slider_redraws_the_image(page):
    goto(page, "Traverse", "Traverse")
    page.get_by_role("tab", name="Dimension sliders").click()
    img = page.locator('[data-testid="stImage"] img').last
    before = img.get_attribute("src")
    thumb = page.get_by_role("slider", name=re.compile(r"^z\d")).first  # a latent dimension's slider
    thumb.focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(before) => { const imgs = document.querySelectorAll('[data-testid=\"stImage\"] img');"
        " return imgs[imgs.length - 1].src !== before; }",
        arg=before,
        timeout=30_000,
    )
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "3b-traverse_sliders.png"), full_page=True)


def test_uploading_a_png_shows_its_encoding(page, tmp_path):
    from vae_core.data import load_dataset

    digit = load_dataset("mnist5k", "val").images[3, 0].numpy()
    path = tmp_path / "digit.png"
    Image.fromarray((255 - digit * 255).astype(np.uint8)).resize((240, 240)).save(path)
    goto(page, "Encode", "Encode your digit")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(path))
    page.get_by_text("prepared input (MNIST-style 28×28)").wait_for(timeout=60_000)
    settle(page, "Encode your digit")
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "4b-encode_upload.png"), full_page=True)


def test_map_overlays_draw(page):
    goto(page, "Latent map", "Latent map")
    page.get_by_text("Posterior σ ellipses (200 points)").click()
    settle(page, "Latent map")
    page.get_by_text("Prior samples N(0, I)").click()
    page.get_by_text("of 1,000 prior samples land in holes").wait_for(timeout=60_000)
    settle(page, "Latent map")
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "1b-latent_map_overlays.png"), full_page=True)


def test_training_from_the_browser_shows_live_progress_and_finishes(page):
    goto(page, "Train", "Train a model")
    page.get_by_label("Latent size", exact=True).fill("2")
    page.get_by_label("Epochs", exact=True).fill("4")
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("validation losses").first.wait_for(timeout=120_000)  # the live loss chart
    page.get_by_text(re.compile(r"^Saved vae-z2-mnist5k-.*\.safetensors\.$")).wait_for(timeout=120_000)
    page.wait_for_timeout(1500)  # one more poll of the fragment redraws the final curves
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "6b-train_done.png"), full_page=True)


CLICK_FIRST_POINT = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, tr = gd._fullData[0];
  const box = gd.getBoundingClientRect();
  return [box.left + xa._offset + xa.l2p(tr.x[0]), box.top + ya._offset + ya.l2p(tr.y[0])];
}"""


def test_clicking_a_point_shows_its_reconstruction_and_neighbours(page):
    goto(page, "Latent map", "Latent map")
    x, y = page.evaluate(CLICK_FIRST_POINT)
    page.mouse.click(x, y)
    page.get_by_text("8 nearest neighbours in latent space").wait_for(timeout=60_000)
    settle(page, "Latent map")
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "1c-latent_map_selected.png"), full_page=True)


def test_drawing_a_one_on_the_canvas_encodes_it(server, page):
    page = page.context.browser.new_page(viewport={"width": 1400, "height": 2000})  # a session with no upload
    page.goto(f"{server}/encode")
    settle(page, "Encode your digit")
    assert page.get_by_text("prepared input (MNIST-style 28×28)").count() == 0
    page.get_by_role("tab", name="Draw").click()
    canvas = page.locator("canvas").last
    canvas.wait_for(timeout=30_000)
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + 40
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 31):  # one vertical stroke: a "1"
        page.mouse.move(x, y + k * 6, steps=2)
    page.mouse.up()
    page.get_by_text("prepared input (MNIST-style 28×28)").wait_for(timeout=60_000)
    settle(page, "Encode your digit")
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "4c-encode_drawing.png"), full_page=True)
