"""The live map in a real Chromium against `streamlit run tests/apps/livemap_demo.py`, offline:
hover, decoding, sliders, the grid, the film, 60,000 points, no network, the plotly fallback."""

import json
import re

import numpy as np
import pytest
import torch
from livemap_support import (
    ARTIFACTS,
    CHANGED,
    IFRAME,
    READ_CANVAS,
    WAIT,
    Offline,
    isolated_point,
    open_demo,
    page_line,
    pt,
    settle,
    to_client,
)
from scipy.spatial import cKDTree
from support import ROOT

import vae_core
from ui.livemap import Lift
from vae_core.analysis import latent, projection
from vae_core.model.estimators import encode_all


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


def test_manifold_grid_is_decoded_in_the_browser_and_reports_a_click(offline, server):
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z2.safetensors")
    page, frame = open_demo(offline, server, "grid")
    frame.wait_for_selector("body[data-drawn='1']", timeout=WAIT)  # the last arguments' grid, complete
    values = latent.grid_values(15, 0.95, "quantile")
    with torch.inference_mode():
        want = model.decode(latent.manifold_grid(torch.zeros(2), (0, 1), values)).numpy()[:, 0]
    grid = "[data-testid=lm-grid-canvas]"
    left, width, height = frame.evaluate(
        f"() => {{ const c = document.querySelector('{grid}'); return [+c.dataset.left, c.width, c.height]; }}"
    )
    shown = np.array(frame.evaluate(READ_CANVAS, [grid, 2])).reshape(height // 2, width // 2)
    shown = shown[: 15 * 28, left // 2 : left // 2 + 15 * 28]  # the images, without the axes' ticks and titles
    tiles = shown.reshape(15, 28, 15, 28).transpose(0, 2, 1, 3).reshape(225, 28, 28)
    assert np.abs(tiles - np.rint(want * 255)).max() <= 1
    box = frame.locator(grid).bounding_box()  # page coordinates; the canvas may be shown smaller than its pixels
    scale = box["width"] / width
    page.mouse.click(box["x"] + (left + 3.5 * 56) * scale, box["y"] + 7.5 * 56 * scale)
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
