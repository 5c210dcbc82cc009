"""The live map's selections in a real Chromium (demo app, offline): lasso, box, click, clear,
survival across reruns and remounts, overlays, colour scales, dimmed classes and exports."""

import json

import numpy as np
from livemap_support import (
    ARTIFACTS,
    IFRAME,
    WAIT,
    isolated_point,
    open_demo,
    page_line,
    pt,
    settle,
    to_client,
    wait_drawn,
    wait_selection,
)


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
