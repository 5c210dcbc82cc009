"""The live map at scale, in Chromium (issue 22): the app on a big generated dataset (encoded in
the background, the page following it), hover with the real image through the image route, box
selection, its export; the canvas path with WebGL disabled; the WebGL path when asked for.

The big map has BIG_MAP_POINTS points (default 250,000: its first encoding takes about a
minute on this 2-core VM, which is what CI can afford; `python -m bench.browser --only million`
runs the same app at a million). Set BIG_MAP_POINTS=1000000 to test that size.
"""

import csv
import io
import os

import numpy as np
import pytest
from driver import LIVEMAP, WAIT_MS, serving_app, settle, shot
from support import ROOT

N = int(os.environ.get("BIG_MAP_POINTS", "250000"))
LINK_DATA = f"synthetic:{N}"


@pytest.fixture(scope="module")
def big_server(tmp_path_factory):
    with serving_app(tmp_path_factory, VAE_EXPLORER_SYNTHETIC=str(N)) as url:
        yield url


def open_big(browser, url, init_script=None, link=f"/?data={LINK_DATA}"):
    """A new user opens the big map's link; the page follows the data's generation and encoding."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1400}, accept_downloads=True)
    if init_script:
        ctx.add_init_script(init_script)
    page = ctx.new_page()
    page.goto(f"{url}{link}")
    page.locator(LIVEMAP).first.wait_for(timeout=WAIT_MS)  # after the progress bars, the map
    frame = page.locator(LIVEMAP).first.element_handle().content_frame()
    frame.wait_for_selector("body[data-drawn='1']", timeout=WAIT_MS)
    settle(page)
    return ctx, page, frame


def plot_to_page(page, frame, xy):
    sx, sy, ox, oy = frame.evaluate("() => { const v = livemap.widget.view; return [v.sx, v.sy, v.ox, v.oy]; }")
    left, top = frame.evaluate("() => { const r = livemap.widget.plot.getBoundingClientRect(); return [r.x, r.y]; }")
    box = page.locator(LIVEMAP).first.bounding_box()
    return box["x"] + left + 54 + ox + xy[0] * sx, box["y"] + top + 10 + oy - xy[1] * sy


def test_a_big_map_draws_hovers_box_selects_and_exports(chromium, big_server):
    import vae_core

    ctx, page, frame = open_big(chromium, big_server)
    assert frame.evaluate("() => livemap.widget.n") == N
    assert frame.evaluate("() => livemap.widget.args.images.route") is not None  # the app's image route
    # hover: the nearest point's real image, fetched through the route, equal to the dataset's
    xy = np.array(frame.evaluate("() => Array.from(livemap.widget.xy.subarray(0, 2000))")).reshape(-1, 2)
    target = xy[np.argsort(np.abs(xy).sum(1))[len(xy) // 2]]  # a point in the thick of the map
    page.mouse.move(*plot_to_page(page, frame, target))
    tip = frame.wait_for_selector("[data-testid=lm-tip][data-loaded='1']", timeout=WAIT_MS)
    i = int(tip.get_attribute("data-index"))
    data = vae_core.load_dataset(LINK_DATA)
    shown = np.array(frame.evaluate(PIXELS_OF_TIP))
    assert np.array_equal(shown, data.images.uint8()[i, 0].ravel()), "the tooltip shows another image"
    shot(page, "big-map-hover")
    # box select around the map's middle: at most 100,000 points, the page's montage and its export
    frame.get_by_role("button", name="Box").click()
    a, b = plot_to_page(page, frame, (-0.6, -0.6)), plot_to_page(page, frame, (0.6, 0.6))
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move(*b, steps=8)
    page.mouse.up()
    selected = frame.evaluate("() => livemap.widget.selCount")
    inside = ((xy[:, 0] > -0.6) & (xy[:, 0] < 0.6) & (xy[:, 1] > -0.6) & (xy[:, 1] < 0.6)).mean()
    assert 0 < selected <= 100_000 and abs(selected / N - inside) < 0.05  # the box's share of the points
    page.get_by_text(f"{selected:,} digits selected").wait_for(timeout=WAIT_MS)
    settle(page)
    shot(page, "big-map-box-selection")
    with page.expect_download(timeout=WAIT_MS) as download:
        page.get_by_role("button", name=f"CSV · selection ({selected:,})").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    idx = np.array([int(r["index"]) for r in rows])
    assert len(rows) == selected and (np.diff(idx) > 0).all() and idx.max() < N
    mine = np.array(frame.evaluate("() => Array.from(livemap.widget.selected.subarray(0))"))
    assert np.array_equal(np.flatnonzero(mine), idx)  # the export holds exactly what the map selected
    the_route_refuses_forged_requests(big_server, frame.evaluate("() => livemap.widget.images.url"))
    ctx.close()


def the_route_refuses_forged_requests(url: str, images_url: str):
    """The server's image and asset routes, asked what no map asks: one line and a 4xx each."""
    import urllib.error
    import urllib.request

    def status(address, body=None):
        try:
            return urllib.request.urlopen(urllib.request.Request(address, data=body), timeout=60).status
        except urllib.error.HTTPError as e:
            return e.code
        except urllib.error.URLError as e:  # the server answered before the body was sent, and hung up
            if isinstance(e.reason, ConnectionError):
                return "hung up"
            raise

    good = np.array([0, N - 1], "<u4").tobytes()
    assert status(images_url, good) == 200
    assert status(images_url, np.array([N], "<u4").tobytes()) == 400
    assert status(images_url, b"\x00" * (4 * 4097)) == 400  # more indices than one request may ask
    # 8 MB: the route stops reading at the limit and answers 400, so the client may see the
    # connection close while it is still sending; either way the server serves the next request
    assert status(images_url, b"\x00" * (8 * 2**20)) in (400, "hung up")
    assert status(images_url, good) == 200
    assert status(images_url.rsplit("/", 1)[0] + "/" + "0" * 24, good) == 400
    assert status(f"{url}/_livemap/assets/x/{'a' * 24}.f32") == 404  # the route answers: no store "x"
    assert 400 <= status(f"{url}/_livemap/assets/x/..%2F..%2Fapp.py") < 500  # a path, never a file


PIXELS_OF_TIP = """() => {
  const c = document.querySelector('[data-testid=lm-tip] canvas'), s = +c.dataset.scale;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, out = [];
  for (let r = 0; r < c.height / s; r++)
    for (let q = 0; q < c.width / s; q++) out.push(d[(r * s * c.width + q * s) * 4]);
  return out; }"""


# WebGL disabled, as a browser without it (or with it turned off) has it: every frame's canvases refuse a WebGL context.
NO_WEBGL = """(() => { const get = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    return /webgl/i.test(String(kind)) ? null : get.call(this, kind, ...rest); }; })();"""


def test_with_webgl_disabled_the_big_map_draws_on_the_canvas(chromium, big_server):
    ctx, page, frame = open_big(chromium, big_server, NO_WEBGL)
    try:
        assert frame.evaluate("() => !document.createElement('canvas').getContext('webgl2')")
        assert frame.evaluate("() => livemap.widget.painter.kind") == "canvas"
        assert frame.evaluate("() => livemap.widget.painter.last") == "density"
        assert frame.evaluate(INK_IN_PLOT) > 0.02, "the canvas drew no points"
        xy = np.array(frame.evaluate("() => Array.from(livemap.widget.xy.subarray(0, 200))")).reshape(-1, 2)
        page.mouse.move(*plot_to_page(page, frame, xy[np.argmin(np.abs(xy).sum(1))]))
        frame.wait_for_selector("[data-testid=lm-tip][data-loaded='1']", timeout=WAIT_MS)
        shot(page, "big-map-no-webgl")
    finally:
        ctx.close()


INK_IN_PLOT = """() => {
  const c = livemap.widget.layers[1], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let k = 0; k < d.length; k += 4) if (d[k] + d[k + 1] + d[k + 2] < 600) ink++;
  return ink / (d.length / 4); }"""


def test_webgl_draws_the_points_where_the_canvas_would(offline, server):
    """The WebGL path (SwiftShader here, a GPU elsewhere) puts the points where the canvas path
    does, and hover still finds them."""
    pages = {}
    for renderer in ("webgl", "canvas"):
        page = offline.ctx.new_page()
        page.goto(f"{server}/?demo=map&renderer={renderer}")
        frame = page.locator(LIVEMAP).first.element_handle().content_frame()
        frame.wait_for_selector("body[data-drawn='1']", timeout=WAIT_MS)
        settle(page)
        assert frame.evaluate("() => livemap.widget.painter.last") == ("webgl" if renderer == "webgl" else "stamps")
        pages[renderer] = (page, frame)
    gl = np.array(pages["webgl"][1].evaluate(GL_ALPHA)) > 0
    cv = np.array(pages["canvas"][1].evaluate(CANVAS_INK)) > 0
    assert gl.sum() > 1000 and (gl & cv).sum() / max(1, (gl | cv).sum()) > 0.6  # the same footprint
    page, frame = pages["webgl"]
    xy = np.array(frame.evaluate("() => Array.from(livemap.widget.xy.subarray(0, 20))")).reshape(-1, 2)
    page.mouse.move(*plot_to_page(page, frame, xy[3]))
    frame.wait_for_selector("[data-testid=lm-tip][data-index]", timeout=WAIT_MS)
    page.screenshot(path=str(ROOT / "test-artifacts" / "livemap" / "webgl-map.png"))
    for page, _ in pages.values():
        page.close()


# Coverage masks on a coarse 4-pixel grid: the GL layer's alpha, and the canvas layer's non-background pixels.
GL_ALPHA = """() => {
  const c = livemap.widget.glLayer, gl = c.getContext('webgl2') || c.getContext('webgl');
  const px = new Uint8Array(c.width * c.height * 4);
  gl.readPixels(0, 0, c.width, c.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
  const out = [];
  for (let y = c.height - 1; y >= 0; y -= 4)
    for (let x = 0; x < c.width; x += 4) out.push(px[(y * c.width + x) * 4 + 3]);
  return out; }"""
CANVAS_INK = """() => {
  const c = livemap.widget.layers[1], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const bg = livemap.widget.layers[0].getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const out = [];
  for (let y = 0; y < c.height; y += 4)
    for (let x = 0; x < c.width; x += 4) {
      const k = (y * c.width + x) * 4;
      const diff = Math.abs(d[k] - bg[k]) + Math.abs(d[k + 1] - bg[k + 1]) + Math.abs(d[k + 2] - bg[k + 2]);
      out.push(diff > 30 ? 1 : 0);
    }
  return out; }"""


SHAPES_MODEL = ROOT / "checkpoints" / "shapes-vae-z10.safetensors"


@pytest.fixture(scope="module")
def shapes_server(tmp_path_factory):
    """The app with its shipped models and an empty cache: the shapes sprites are generated on
    first use (a few seconds), their codes are the shipped ones."""
    with serving_app(tmp_path_factory) as url:
        yield url


def test_the_shipped_shapes_model_draws_all_663552_sprites_hovers_box_selects_and_exports(chromium, shapes_server):
    """Issue 22's done-means: the shapes model's map at full size (no subsample), hover shows the
    real sprite (made from its bits on demand by the server), a box selection, its montage, its
    CSV; then colour by a true factor."""
    from vae_core.data import shapes
    from vae_core.io.projection_cache import file_digest

    link = f"/?model={file_digest(SHAPES_MODEL)[:12]}"
    ctx, page, frame = open_big(chromium, shapes_server, link=link)
    n = frame.evaluate("() => livemap.widget.n")
    assert n == 663_552
    assert frame.evaluate("() => livemap.widget.args.images.route") is not None
    xy = np.array(frame.evaluate("() => Array.from(livemap.widget.xy.subarray(0, 40000))")).reshape(-1, 2)
    middle = np.median(xy, 0)
    page.mouse.move(*plot_to_page(page, frame, middle))
    tip = frame.wait_for_selector("[data-testid=lm-tip][data-loaded='1']", timeout=WAIT_MS)
    i = int(tip.get_attribute("data-index"))
    train = shapes.load_shapes("train")
    assert np.array_equal(np.array(frame.evaluate(PIXELS_OF_TIP)), train.images.uint8_view()[i, 0].ravel())
    shot(page, "shapes-map-hover")
    lo, hi = np.quantile(xy, 0.45, axis=0), np.quantile(xy, 0.55, axis=0)
    frame.get_by_role("button", name="Box").click()
    page.mouse.move(*plot_to_page(page, frame, lo))
    page.mouse.down()
    page.mouse.move(*plot_to_page(page, frame, hi), steps=8)
    page.mouse.up()
    selected = frame.evaluate("() => livemap.widget.selCount")
    assert 0 < selected <= 100_000
    page.get_by_text(f"{selected:,} images selected").wait_for(timeout=WAIT_MS)
    settle(page)
    shot(page, "shapes-map-box-selection")
    with page.expect_download(timeout=WAIT_MS) as download:
        page.get_by_role("button", name=f"CSV · selection ({selected:,})").click()
    idx = np.array([int(r["index"]) for r in csv.DictReader(io.StringIO(download.value.path().read_text()))])
    mine = np.array(frame.evaluate("() => Array.from(livemap.widget.selected.subarray(0))"))
    assert np.array_equal(np.flatnonzero(mine), idx) and idx.max() < n
    ctx.close()
