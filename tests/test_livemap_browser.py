"""The live map in a real Chromium against `streamlit run tests/apps/livemap_demo.py`, offline.

Every request to anything but 127.0.0.1 is blocked (Playwright routing) and recorded, so the
tests also prove the component needs no network. Pixels are compared with the dataset and with
torch's `model.decode`; screenshots land in test-artifacts/livemap/ for a person to look at.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
import torch
from conftest import ROOT
from scipy.spatial import cKDTree

import vae_core
from ui.livemap import Lift
from vae_core import latent, projection
from vae_core.evaluate import encode_all

ARTIFACTS = ROOT / "test-artifacts" / "livemap"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT = 180_000  # ms: a shared 2-core machine can be slow; every wait is on a state, not a clock
IFRAME = 'iframe[title="ui.livemap.component.livemap"]'
PIXELS = """(sel, scale) => {
  const c = document.querySelector(sel), s = scale || +c.dataset.scale;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, out = [];
  for (let r = 0; r < c.height / s; r++)
    for (let q = 0; q < c.width / s; q++) out.push(d[((r * s + (s >> 1)) * c.width + q * s + (s >> 1)) * 4]);
  return out;
}"""
READ_CANVAS = f"([sel, scale]) => ({PIXELS})(sel, scale)"
CHANGED = f"([sel, scale, before]) => JSON.stringify(({PIXELS})(sel, scale)) !== JSON.stringify(before)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "VAE_EXPLORER_LIVEMAP_CACHE": str(tmp_path_factory.mktemp("livemap_cache"))}
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w")
    cmd = [sys.executable, "-m", "streamlit", "run", "tests/apps/livemap_demo.py", "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
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
def browser():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Chromium missing: apt-get install chromium"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


class Offline:
    """A browser context that can reach 127.0.0.1 only; what it tried elsewhere is kept."""

    def __init__(self, browser, init_script=None):
        self.blocked = []
        self.ctx = browser.new_context(viewport={"width": 1300, "height": 1100}, accept_downloads=True)
        if init_script:
            self.ctx.add_init_script(init_script)
        self.ctx.route("**/*", self.route)

    def route(self, route):
        host = urllib.parse.urlparse(route.request.url).hostname
        if host == "127.0.0.1" or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()


@pytest.fixture(scope="module")
def offline(browser):
    o = Offline(browser)
    yield o
    o.ctx.close()


def open_demo(offline, server, demo):
    page = offline.ctx.new_page()
    page.goto(f"{server}/?demo={demo}")
    return page, wait_drawn(page)


def wait_drawn(page, nth=0):
    el = page.locator(IFRAME).nth(nth)
    el.wait_for(timeout=WAIT)
    frame = el.element_handle().content_frame()
    frame.wait_for_selector("body[data-drawn='1']", timeout=WAIT)
    settle(page)
    return frame


def settle(page):
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=WAIT)


def offset(page):
    box = page.locator(IFRAME).first.bounding_box()
    return box["x"], box["y"]


def page_line(page, prefix):
    """The demo's text line starting with `prefix`, once present."""
    loc = page.get_by_text(re.compile("^" + re.escape(prefix))).first
    loc.wait_for(timeout=WAIT)
    return loc.inner_text()[len(prefix) :]


def wait_selection(page, trigger):
    page.get_by_text(re.compile(rf"trigger={trigger}$")).first.wait_for(timeout=WAIT)
    settle(page)
    return json.loads(page_line(page, "selection="))


@pytest.fixture(scope="module")
def z2():
    """vae-z2 and its native map of mnist5k's training digits, computed here, not by the app."""
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z2.safetensors")
    data = vae_core.load_dataset("mnist5k", "train")
    with torch.inference_mode():
        mean, _ = encode_all(model, data.images)
    return model, data, projection.fit_projection(mean.numpy(), "native")


def to_client(frame, page, xy):
    """Map coordinates -> page coordinates, through the component's own view."""
    sx, sy, ox, oy = frame.evaluate("() => { const v = livemap.widget.view; return [v.sx, v.sy, v.ox, v.oy]; }")
    left, top = frame.evaluate(
        "() => { const r = livemap.widget.plot.getBoundingClientRect(); return [r.left, r.top]; }"
    )
    fx, fy = offset(page)
    xy = np.atleast_2d(xy)
    return np.c_[fx + left + 54 + ox + xy[:, 0] * sx, fy + top + 10 + oy - xy[:, 1] * sy]


def pt(p) -> tuple[float, float]:
    return float(p[0]), float(p[1])


def isolated_point(frame, page, xy, min_px=14.0):
    px = to_client(frame, page, xy)
    d, _ = cKDTree(px).query(px, k=2)
    order = np.argsort(-d[:, 1])
    return int(order[len(order) // 20]), px  # well separated, but not a far outlier at the edge


def test_hover_a_point_shows_that_digit(offline, server, z2):
    model, data, proj = z2
    page, frame = open_demo(offline, server, "map")
    i, px = isolated_point(frame, page, proj.embedding)
    page.mouse.move(*pt(px[i]))
    frame.wait_for_selector(f"[data-testid=lm-tip][data-index='{i}'][data-loaded='1']", timeout=WAIT)
    shown = np.array(frame.evaluate(READ_CANVAS, ["[data-testid=lm-tip] canvas", 0]))
    want = np.rint(data.images[i, 0].numpy() * 255).ravel()
    assert np.abs(shown - want).max() <= 1, "the tooltip does not show the hovered digit"
    assert data.classes[int(data.labels[i])] in frame.inner_text("[data-testid=lm-tip]")
    page.screenshot(path=str(ARTIFACTS / "1-hover-point.png"))
    page.close()


@pytest.mark.parametrize("demo", ["map", "pca"])
def test_hover_empty_space_decodes_like_torch(offline, server, demo):
    name = "vae-z2" if demo == "map" else "vae-z16"
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{name}.safetensors")
    with torch.inference_mode():
        mean, _ = encode_all(model, vae_core.load_dataset("mnist5k", "train").images)
    proj = projection.fit_projection(mean.numpy(), "native" if demo == "map" else "pca")
    page, frame = open_demo(offline, server, demo)
    px = to_client(frame, page, proj.embedding)
    x0, y0, x1, y1 = px[:, 0].min(), px[:, 1].min(), px[:, 0].max(), px[:, 1].max()
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 25), np.linspace(y0, y1, 25)), -1).reshape(-1, 2)
    spot = grid[np.argmax(cKDTree(px).query(grid)[0] > 20)]  # the first spot with no point within 20 px
    page.mouse.move(*pt(spot))
    page.mouse.move(*pt(spot + 1))
    frame.wait_for_function("() => !document.querySelector('[data-testid=lm-tip]').dataset.index", timeout=WAIT)
    x = float(frame.get_attribute("[data-testid=lm-decode]", "data-x"))
    y = float(frame.get_attribute("[data-testid=lm-decode]", "data-y"))
    shown = np.array(frame.evaluate(READ_CANVAS, ["[data-testid=lm-decode] canvas", 0]))
    with torch.inference_mode():
        want = model.decode(torch.from_numpy(Lift.from_projection(proj)([x, y]))).numpy().ravel()
    assert np.abs(shown - np.rint(want * 255)).max() <= 1, "the browser's decoder disagrees with torch"
    page.screenshot(path=str(ARTIFACTS / f"2-decode-empty-{demo}.png"))
    page.close()


def test_the_browser_decoder_matches_torch_on_random_codes(offline, server):
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z16.safetensors")
    page, frame = open_demo(offline, server, "sliders")
    z = torch.randn(40, 16, generator=torch.Generator().manual_seed(0)) * 1.5
    got = np.array(frame.evaluate("(zs) => zs.map((z) => Array.from(livemap.widget.decoder.decode(z)))", z.tolist()))
    with torch.inference_mode():
        want = model.decode(z).reshape(40, -1).numpy()
    assert np.abs(got - want).max() < 1e-4
    page.close()


def test_dragging_a_slider_redraws_at_once_and_reports_on_release(offline, server):
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z16.safetensors")
    page, frame = open_demo(offline, server, "sliders")
    before = frame.evaluate(READ_CANVAS, ["[data-testid=lm-slider-canvas]", 10])
    box = frame.locator("input[type=range]").first.bounding_box()  # page coordinates
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + box["width"] * 0.3, y, steps=8)
    frame.wait_for_function(CHANGED, arg=["[data-testid=lm-slider-canvas]", 10, before], timeout=WAIT)
    assert page_line(page, "z=") == "null", "positions went back before the release"
    page.mouse.up()
    page.get_by_text(re.compile(r"^z=\[")).wait_for(timeout=WAIT)
    settle(page)
    z = np.array(json.loads(page_line(page, "z=")), np.float32)
    dim = int(frame.get_attribute("input[type=range] >> nth=0", "data-dim"))
    assert z[dim] > 0.5 and np.abs(np.delete(z, dim)).max() == 0
    assert z[dim] == pytest.approx(float(frame.input_value("input[type=range] >> nth=0")), abs=1e-4)
    shown = np.array(frame.evaluate(READ_CANVAS, ["[data-testid=lm-slider-canvas]", 10]))
    with torch.inference_mode():
        want = np.rint(model.decode(torch.from_numpy(z[None])).numpy().ravel() * 255)
    assert np.abs(shown - want).max() <= 1
    page.screenshot(path=str(ARTIFACTS / "3-sliders.png"))
    page.close()


def inside(points, poly):
    """Even-odd point-in-polygon, as the browser computes it."""
    x, y, c = points[:, 0], points[:, 1], np.zeros(len(points), bool)
    for (xa, ya), (xb, yb) in zip(poly, np.roll(poly, 1, 0), strict=True):
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = (ya > y) != (yb > y)
            c ^= cross & (x < (xb - xa) * (y - ya) / (yb - ya) + xa)
    return c


def test_lasso_box_click_and_clear_select_the_right_points(offline, server, z2):
    _, data, proj = z2
    xy = proj.embedding
    page, frame = open_demo(offline, server, "map")
    frame.get_by_role("button", name="Lasso").click()
    centre = to_client(frame, page, [[0.0, 0.0]])[0]
    ring = [centre + 90 * np.array([np.cos(t), np.sin(t) * 0.7]) for t in np.linspace(0, 2 * np.pi, 9)]
    page.mouse.move(*pt(ring[0]))
    page.mouse.down()
    for p in ring[1:]:
        page.mouse.move(*pt(p), steps=4)
    page.mouse.up()
    got = set(wait_selection(page, "lasso"))
    poly = np.array(frame.evaluate("() => livemap.widget.lastLasso"), np.float64).reshape(-1, 2)
    want = set(np.flatnonzero(inside(xy.astype(np.float64), poly)).tolist())
    assert len(poly) >= 8 and len(want) > 50
    assert got == want, f"{len(got ^ want)} points differ between the lasso and the polygon"
    page.screenshot(path=str(ARTIFACTS / "4-lasso.png"))

    frame.get_by_role("button", name="Box").click()
    a, b = to_client(frame, page, [[-1.0, 1.0], [1.0, -1.0]])
    page.mouse.move(*pt(a))
    page.mouse.down()
    page.mouse.move(*pt(b), steps=6)
    page.mouse.up()
    got = set(wait_selection(page, "box"))
    inbox = (np.abs(xy[:, 0]) < 0.98) & (np.abs(xy[:, 1]) < 0.98)  # well inside: must be selected
    outbox = (np.abs(xy[:, 0]) > 1.02) | (np.abs(xy[:, 1]) > 1.02)  # well outside: must not be
    assert set(np.flatnonzero(inbox).tolist()) <= got and not got & set(np.flatnonzero(outbox).tolist())

    frame.get_by_role("button", name="Pan").click()
    i, px = isolated_point(frame, page, xy)
    page.mouse.click(*pt(px[i]))
    assert wait_selection(page, "click") == [i]
    frame.get_by_role("button", name="Clear").click()
    assert wait_selection(page, "clear") == []
    page.close()


def test_a_selection_survives_a_rerun_and_a_remount(offline, server, z2):
    page, frame = open_demo(offline, server, "map")
    i, px = isolated_point(frame, page, z2[2].embedding)
    page.mouse.click(*pt(px[i]))
    assert wait_selection(page, "click") == [i]
    page.get_by_text("Overlays").click()  # a rerun with new arguments
    settle(page)
    frame.wait_for_function("() => livemap.widget.args.overlays.length === 6", timeout=WAIT)
    assert frame.evaluate("(i) => [livemap.widget.selCount, livemap.widget.selected[i]]", i) == [1, 1]
    page.get_by_text("Hide the map").click()
    page.locator(IFRAME).wait_for(state="detached", timeout=WAIT)
    page.get_by_text("Hide the map").click()
    frame = wait_drawn(page)  # a new iframe: the selection comes back from the argument
    assert frame.evaluate("(i) => [livemap.widget.selCount, livemap.widget.selected[i]]", i) == [1, 1]
    assert json.loads(page_line(page, "selection=")) == [i]
    page.screenshot(path=str(ARTIFACTS / "5-overlays-restored-selection.png"))
    page.close()


def test_overlays_colour_scale_highlight_dimmed_classes_and_exports(offline, server, z2):
    page, frame = open_demo(offline, server, "map")
    page.get_by_text("Overlays").click()
    settle(page)
    page.get_by_text("Colour by KL").click()
    settle(page)
    frame.wait_for_function("() => livemap.widget.args.values && livemap.widget.values", timeout=WAIT)
    assert "KL (nats)" in frame.inner_text(".lm-legend")
    for name in ("interpolation", "your digit", "prior samples", "posterior 1σ", "prior, 2σ", "demo shade"):
        assert name in frame.inner_text(".lm-legend"), name
    page.screenshot(path=str(ARTIFACTS / "6-overlays-colour-by-kl.png"))
    with page.expect_download(timeout=WAIT) as dl:
        frame.get_by_role("button", name="SVG").click()
    svg = open(dl.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and svg.count("<circle") == 4500 and "your digit" in svg
    with page.expect_download(timeout=WAIT) as dl:
        frame.get_by_role("button", name="PNG").click()
    from PIL import Image

    png = Image.open(dl.value.path())
    assert png.size == tuple(frame.evaluate("() => [livemap.widget.layers[0].width, livemap.widget.layers[0].height]"))
    page.get_by_text("Colour by KL").click()
    settle(page)
    frame.evaluate("() => { const v = livemap.widget.view; v.zoom(v.w / 2, v.h / 2, 8); livemap.widget.draw(); }")
    far = int(np.argmax(np.abs(z2[2].embedding).sum(1)))  # a point outside the zoomed view
    page.get_by_label("Highlight index (-1: none)").fill(str(far))
    page.keyboard.press("Enter")
    frame.wait_for_function(f"() => livemap.widget.args.highlight === {far}", timeout=WAIT)
    x, y = frame.evaluate(
        f"() => livemap.widget.toClient(livemap.widget.pos[{2 * far}], livemap.widget.pos[{2 * far + 1}])"
    )
    r = frame.evaluate(
        "() => { const r = livemap.widget.plot.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
    )
    assert r[0] < x < r[2] and r[1] < y < r[3], "jumping to a data index did not bring it into view"
    frame.locator(".lm-legend-row[data-class='1']").click()  # dim the ones: they stop being pickable
    assert (
        frame.evaluate("() => livemap.widget.pickable.filter((p, i) => livemap.widget.labels[i] === 1 && p).length")
        == 0
    )
    page.screenshot(path=str(ARTIFACTS / "6b-ones-dimmed.png"))
    page.close()


def test_manifold_grid_is_decoded_in_the_browser_and_reports_a_click(offline, server):
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z2.safetensors")
    page, frame = open_demo(offline, server, "grid")
    values = latent.grid_values(15, 0.95, "quantile")
    with torch.inference_mode():
        want = model.decode(latent.manifold_grid(torch.zeros(2), (0, 1), values)).numpy()[:, 0]
    shown = np.array(frame.evaluate(READ_CANVAS, ["[data-testid=lm-grid-canvas]", 2])).reshape(15 * 28, 15 * 28)
    tiles = shown.reshape(15, 28, 15, 28).transpose(0, 2, 1, 3).reshape(225, 28, 28)
    assert np.abs(tiles - np.rint(want * 255)).max() <= 1
    box = frame.locator("[data-testid=lm-grid-canvas]").bounding_box()  # page coordinates
    page.mouse.click(box["x"] + box["width"] * (3.5 / 15), box["y"] + box["height"] * (7.5 / 15))
    page.get_by_text(re.compile(r"^cell=\(7, 3\)")).wait_for(timeout=WAIT)
    page.screenshot(path=str(ARTIFACTS / "7-grid.png"), full_page=True)
    page.close()


def test_training_film_scrubs_and_plays(offline, server, z2):
    page, frame = open_demo(offline, server, "film")
    frame.locator("input.lm-scrub").fill("0")
    mean = z2[2].embedding
    start = np.random.default_rng(0).normal(0, 0.3, mean.shape).astype(np.float32)  # the demo's film
    pos = np.array(frame.evaluate("() => Array.from(livemap.widget.pos.subarray(0, 20))")).reshape(-1, 2)
    assert np.abs(pos - start[:10]).max() < 2e-3  # float16 frames
    assert "epoch 1" in frame.inner_text(".lm-epoch")
    page.screenshot(path=str(ARTIFACTS / "8-film-epoch-1.png"))
    frame.get_by_role("button", name="▶").click()
    frame.wait_for_function("() => document.querySelector('.lm-epoch').textContent === 'epoch 20'", timeout=WAIT)
    frame.wait_for_function("() => !livemap.widget.film.playing", timeout=WAIT)
    pos = np.array(frame.evaluate("() => Array.from(livemap.widget.pos.subarray(0, 20))")).reshape(-1, 2)
    assert np.abs(pos - mean[:10]).max() < 2e-3
    page.close()


def test_sixty_thousand_points_draw_and_hover_their_real_images(offline, server):
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z16.safetensors")
    tr, va = vae_core.load_dataset("fashion", "train"), vae_core.load_dataset("fashion", "val")
    images = torch.cat([tr.images, va.images])
    with torch.inference_mode():
        mean, _ = encode_all(model, images)
    proj = projection.fit_projection(mean.numpy(), "pca")
    page, frame = open_demo(offline, server, "big")
    assert frame.evaluate("() => livemap.widget.n") == 60_000
    i, px = isolated_point(frame, page, proj.embedding, min_px=6)
    page.mouse.move(*pt(px[i]))
    frame.wait_for_selector(f"[data-testid=lm-tip][data-index='{i}'][data-loaded='1']", timeout=WAIT)
    shown = np.array(frame.evaluate(READ_CANVAS, ["[data-testid=lm-tip] canvas", 0]))
    assert np.abs(shown - np.rint(images[i, 0].numpy() * 255).ravel()).max() <= 1
    page.screenshot(path=str(ARTIFACTS / "9-sixty-thousand.png"))
    page.close()


def test_it_never_reached_beyond_127_0_0_1(offline):
    assert offline.blocked == [], offline.blocked[:5]


def test_a_browser_without_decompression_streams_gets_the_plotly_map(browser, server):
    o = Offline(browser, init_script="delete window.DecompressionStream;")
    page = o.ctx.new_page()
    page.goto(f"{server}/?demo=map")
    page.get_by_text(re.compile("cannot run in this browser: it lacks DecompressionStream")).wait_for(timeout=WAIT)
    page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT)
    settle(page)
    assert page.locator(IFRAME).count() == 0
    page.screenshot(path=str(ARTIFACTS / "10-fallback.png"))
    o.ctx.close()
