"""An ONNX model picked in the sidebar of the real app (`streamlit run app.py`) in Chromium: the
map, the sliders and the grid decode with onnxruntime-web and agree with onnxruntime on the
server; every page draws (screenshots at 1400 and 800 px in test-artifacts/screenshots/); a
browser without WebAssembly gets server-decoded images and one note instead."""

import numpy as np
import pytest
import torch
from driver import (
    LIVEMAP,
    NAV_TITLES,
    PIXELS,
    READ_CANVAS,
    SLIDERS,
    WAIT_MS,
    goto,
    map_eval,
    no_exception,
    pick_model,
    settle,
    shot,
    wait_map,
)
from support import ROOT

import vae_core

STEM = "vae-z2-onnx"
PLOT_RECT = (
    "() => { const r = livemap.widget.plot.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }"
)
READY = "[data-testid=lm-decode][data-ready='1'][data-kind='onnx']"


@pytest.fixture(scope="module")
def onnx_model():
    """The shipped ONNX example, run by onnxruntime on this side (CPU provider)."""
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "onnx" / STEM)
    return model


def onnx_map(pg):
    """The Latent map's frame once its ONNX decoder is ready. Picking a model mounts a new map (its
    key names the model) while the old one may still be found: a detached frame is looked up again."""
    from playwright.sync_api import Error

    for attempt in range(5):
        frame = wait_map(pg)
        try:
            frame.wait_for_selector(READY, timeout=WAIT_MS)
            return frame
        except Error as e:
            if "detached" not in str(e) or attempt == 4:
                raise


def server_pixels(model, z) -> np.ndarray:
    with torch.inference_mode():
        return np.rint(model.decode(torch.tensor(np.atleast_2d(z), dtype=torch.float32)).numpy().ravel() * 255)


def test_the_map_decodes_under_the_pointer_like_onnxruntime_on_the_server(new_page, onnx_model):
    pg = new_page()
    pick_model(pg, STEM)
    frame = onnx_map(pg)
    lift = frame.evaluate("() => livemap.widget.args.lift")
    box = pg.locator(LIVEMAP).first.bounding_box()
    plot = frame.evaluate(PLOT_RECT)
    for fx, fy in ((0.3, 0.25), (0.7, 0.6), (0.55, 0.8)):  # three spots, each decoded by the browser
        done = frame.evaluate("() => livemap.widget.metrics.decoded.length")
        pg.mouse.move(box["x"] + plot[0] + fx * plot[2], box["y"] + plot[1] + fy * plot[3])
        frame.wait_for_function("(n) => livemap.widget.metrics.decoded.length > n", arg=done, timeout=WAIT_MS)
        x = float(frame.get_attribute("[data-testid=lm-decode]", "data-x"))
        y = float(frame.get_attribute("[data-testid=lm-decode]", "data-y"))
        shown = np.array(frame.evaluate(READ_CANVAS, ["[data-testid=lm-decode] canvas", 0]))
        z = np.array(lift["center"]) + x * np.array(lift["components"][0]) + y * np.array(lift["components"][1])
        assert np.abs(shown - server_pixels(onnx_model, z)).max() <= 1, (x, y)
    no_exception(pg)
    shot(pg, "onnx-1-latent_map-decoded")


def test_sliders_and_grid_decode_an_onnx_model_in_the_browser(new_page, onnx_model):
    pg = new_page()
    pick_model(pg, STEM)
    goto(pg, "Traverse")
    pg.get_by_role("tab", name="Dimension sliders").click()
    frame = wait_map(pg, frame_title=SLIDERS)
    frame.wait_for_selector("[data-testid=lm-slider-canvas][data-painted]", timeout=WAIT_MS)
    before = frame.evaluate(READ_CANVAS, ["[data-testid=lm-slider-canvas]", 10])
    slider = frame.locator("input[type=range]").first
    slider.focus()
    for _ in range(15):
        slider.press("ArrowRight")
    frame.wait_for_function(
        f"([sel, scale, before]) => JSON.stringify(({PIXELS})(sel, scale)) !== JSON.stringify(before)",
        arg=["[data-testid=lm-slider-canvas]", 10, before],
        timeout=WAIT_MS,
    )
    frame.wait_for_function("() => !livemap.widget.latest.busy", timeout=WAIT_MS)  # the last key's image is drawn
    z = frame.evaluate("() => Array.from(livemap.widget.z)")
    shown = np.array(frame.evaluate(READ_CANVAS, ["[data-testid=lm-slider-canvas]", 10]))
    assert np.abs(shown - server_pixels(onnx_model, z)).max() <= 1, z
    assert frame.evaluate("() => livemap.widget.decoder.kind") == "onnx"
    shot(pg, "onnx-3b-traverse_sliders")
    pg.get_by_role("tab", name="Manifold grid").click()
    grid = pg.locator(LIVEMAP + " >> visible=true").element_handle().content_frame()
    grid.wait_for_function("() => livemap.widget.metrics.grid.length > 0", timeout=WAIT_MS)
    assert grid.evaluate("() => livemap.widget.decoder.kind") == "onnx"
    no_exception(pg)
    shot(pg, "onnx-3a-traverse_grid")


FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
# Every image of the page loaded (a map's handshake reruns the page once: an image of the run
# before may be replaced while the screenshot is taken).
IMAGES = "() => Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)"


def test_every_page_draws_with_an_onnx_model_picked(new_page):
    """Each page once, shot at 1400 px and again at 800 px (a narrow window: the side panel of a
    map goes under the plot)."""
    pg = new_page()
    pick_model(pg, STEM)
    for i, nav in enumerate(NAV_TITLES):
        goto(pg, nav)
        no_exception(pg)
        assert not pg.locator('[data-testid="stAlertContentWarning"]').count(), nav
        if nav == "Latent map":
            onnx_map(pg)
        settle(pg)
        pg.wait_for_function(IMAGES, timeout=WAIT_MS)
        for width in (1400, 800):
            pg.set_viewport_size({"width": width, "height": 1800})
            pg.evaluate(FRAMES)  # laid out and painted at this width
            shot(pg, f"onnx-{width}-{i + 1}-{nav.lower().replace(' ', '_')}")
        pg.set_viewport_size({"width": 1400, "height": 1800})


NO_WASM = "delete window.WebAssembly"  # as in a browser without WebAssembly (or with it switched off)


def test_without_webassembly_the_pages_decode_on_the_server_with_one_note(chromium, app_server):
    ctx = chromium.new_context(viewport={"width": 1400, "height": 1800})
    ctx.add_init_script(NO_WASM)
    try:
        pg = ctx.new_page()
        pg.goto(app_server)
        settle(pg)
        pick_model(pg, STEM)
        note = pg.get_by_text("This browser cannot run the decoder (this browser has no WebAssembly)")
        note.first.wait_for(timeout=WAIT_MS)
        settle(pg)
        assert map_eval(pg, "() => livemap.widget.n") == 4500  # the map itself still draws its points
        assert note.count() == 1
        no_exception(pg)
        shot(pg, "onnx-nowasm-1-latent_map")
        goto(pg, "Traverse")
        pg.get_by_role("tab", name="Dimension sliders").click()
        pg.locator('[data-testid="stSlider"] >> visible=true').first.wait_for(timeout=WAIT_MS)  # the server's
        assert pg.get_by_text("This browser cannot run the decoder").count() == 1
        assert pg.locator(LIVEMAP).count() == 0  # no component tried again
        assert pg.get_by_text("decoded from the sliders' z").count() == 1
        no_exception(pg)
        shot(pg, "onnx-nowasm-3-traverse")
    finally:
        ctx.close()
