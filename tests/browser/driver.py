"""Browser-test support: a real `streamlit run app.py` server and Debian's Chromium via Playwright.

Used by the test_browser_*.py modules through the fixtures in conftest.py. Every wait here
waits on a state of the page (a heading, the script's run state, a text), never on a clock,
with generous limits so a busy machine is slow rather than red.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
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
# The longest any single state may take to appear on a loaded 2-core machine (lower it, e.g. to
# check that a test fails without a fix, with BROWSER_WAIT_MS).
WAIT_MS = int(os.environ.get("BROWSER_WAIT_MS", "300000"))
NAV_TITLES = TITLES = {
    "Latent map": "Latent map",
    "Interpolate": "Interpolate",
    "Traverse": "Traverse",
    "Encode": re.compile(r"^Encode your (digit|image)$"),  # the noun follows the model's data
    "ELBO": "The ELBO of one image",
    "Sample": "Sample",
    "Compare": "AE vs KL-only vs VAE",
    "β sweep": "β sweep",
    "Train": "Train a model",
}


def chromium_path() -> str | None:
    """Debian's Chromium when installed; else None, and Playwright's own build is used."""
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving_app(tmp_path_factory, **env):
    """`streamlit run app.py` with a models folder and a cache of its own (and `env` on top): its
    URL while the block runs; terminated after it."""
    env = {
        "VAE_EXPLORER_USER_MODELS": str(tmp_path_factory.mktemp("user_models")),
        "VAE_EXPLORER_CACHE": str(tmp_path_factory.mktemp("cache")),
        **env,
    }
    proc, url = start_server("app.py", env, tmp_path_factory.mktemp("log") / "streamlit.log")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def start_server(script: str, env: dict, log_path: Path, timeout_s: float = 180):
    """`streamlit run SCRIPT` on a free loopback port; returns (process, url) once healthy."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:  # poll the health endpoint until the server answers
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return proc, url
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early; see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not answer within {timeout_s:.0f} s; see {log_path}")
        time.sleep(0.25)


def settle(pg, title: str | None = None):
    """Wait until the page shows its title (if given) and the script has finished running."""
    if title:
        pg.get_by_role("heading", name=title).first.wait_for(timeout=WAIT_MS)
    pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=WAIT_MS)


def no_exception(pg):
    boxes = pg.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def goto(pg, nav: str):
    pg.locator('[data-testid="stSidebarNav"]').get_by_text(nav, exact=True).click()
    settle(pg, TITLES[nav])


def choose(pg, label: str, option: str | re.Pattern, scope=None):
    """Pick the option whose text matches `option` (text: starts with it) in the selectbox
    labelled `label`, as a user does: open the list, click the option."""
    from playwright.sync_api import TimeoutError

    scope = scope or pg
    pattern = option if isinstance(option, re.Pattern) else re.compile("^" + re.escape(option))
    box = scope.get_by_role("combobox", name=label, exact=True)
    box.click()
    try:
        pg.get_by_role("listbox").wait_for(timeout=3000)
    except TimeoutError:  # after a download, headless Chromium's first click only focuses the box
        box.press("ArrowDown")  # a focused select opens on ArrowDown, as for a keyboard user
    try:
        pg.get_by_role("option", name=pattern).first.click(timeout=10_000)
    except TimeoutError:
        if not isinstance(option, str):
            raise
        # a select near the bottom of a long page can open its list below the viewport, where no
        # pointer reaches: choose as a keyboard user does (type to filter, Enter takes the first)
        pg.keyboard.type(option)
        pg.keyboard.press("Enter")
    pg.get_by_role("listbox").wait_for(state="hidden", timeout=WAIT_MS)  # its popover would eat the next click


def choose_typed(pg, label: str, text: str):
    """Pick the option whose text starts with `text` in the selectbox `label` as a keyboard user
    does: type it, Enter. (A list near the bottom of a long page can open below the viewport,
    where a pointer cannot reach its options.)"""
    from playwright.sync_api import expect

    box = pg.get_by_role("combobox", name=label, exact=True)
    box.focus()
    pg.keyboard.type(text)
    pg.get_by_role("option", name=re.compile("^" + re.escape(text))).first.wait_for(state="attached", timeout=WAIT_MS)
    pg.keyboard.press("Enter")
    expect(box).to_have_value(text, timeout=WAIT_MS)
    settle(pg)


def pick_model(pg, stem: str):
    """Choose a model in the sidebar picker as a user with a long list does: open it, type the
    name, click it. (The list is virtual: once earlier tests have added models to the session's
    server, an option far down is not in the page until it is scrolled or typed to.)"""
    name = re.compile(rf"— {re.escape(stem)} ·")  # labels read "<group> — <stem> · <what>"
    pg.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Model", exact=True).click()
    pg.keyboard.type(stem)
    pg.get_by_role("option", name=name).first.click()
    pg.get_by_role("listbox").wait_for(state="hidden", timeout=WAIT_MS)  # its popover would eat the next click
    settle(pg)


def shot(pg, name: str, whole: bool = False):
    """A screenshot of the page; `whole`: all of it, not just the window (Streamlit scrolls inside
    its main section, so full_page alone stops at the window's height)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = pg.viewport_size
    if whole:
        height = pg.evaluate(CONTENT_HEIGHT)
        if height > size["height"]:
            pg.set_viewport_size({"width": size["width"], "height": height})
            settle(pg)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if pg.viewport_size != size:
        pg.set_viewport_size(size)


CONTENT_HEIGHT = """() => Math.max(...Array.from(document.querySelectorAll(
  '[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stSidebarContent"]'),
  e => e.scrollHeight))"""


def plot_ready(pg, n_plots: int = 1):
    """Wait until plotly has drawn `n_plots` charts with their data."""
    pg.wait_for_function(
        "(n) => { const g = document.querySelectorAll('.js-plotly-plot');"
        " return g.length >= n && Array.from(g).every(e => e._fullData && e._fullData.length); }",
        arg=n_plots,
        timeout=WAIT_MS,
    )


# --- the live map (ui/livemap): its iframe, and map coordinates -> page coordinates ---

LIVEMAP = 'iframe[title="ui.livemap.component.livemap"]'
SLIDERS = LIVEMAP + " >> visible=true"  # the slider panel: the same component in another mode, in the open tab
PLOT_ORIGIN = "() => { const r = livemap.widget.plot.getBoundingClientRect(); return [r.left, r.top]; }"
PIXELS = """(sel, scale) => {
  const c = document.querySelector(sel), s = scale || +c.dataset.scale;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, out = [];
  for (let r = 0; r < c.height / s; r++)
    for (let q = 0; q < c.width / s; q++) out.push(d[((r * s + (s >> 1)) * c.width + q * s + (s >> 1)) * 4]);
  return out;
}"""
READ_CANVAS = f"([sel, scale]) => ({PIXELS})(sel, scale)"


def wait_map(pg, nth: int = 0, frame_title: str = LIVEMAP):
    """The nth live map's frame, once it has drawn (its points, its sliders' image). A rerun may
    replace the iframe while we wait (a model just picked: the old model's map makes way for the
    new one's); then the wait follows the iframe that is there now, until WAIT_MS in all."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        el = pg.locator(frame_title).nth(nth)
        el.wait_for(timeout=WAIT_MS)
        frame = el.element_handle().content_frame()
        left = max(1.0, deadline - time.monotonic()) * 1000
        try:
            frame.wait_for_selector("body[data-drawn='1']", timeout=left)
            break
        except Error as e:
            if "detached" not in str(e) or time.monotonic() > deadline:
                raise
    settle(pg)
    return frame


def map_eval(pg, js: str, arg=None, nth: int = 0):
    """Evaluate `js` in the nth drawn live map. A page's follow-up run may mount a new iframe
    (the old one detaches): then the new one is waited for and asked instead."""
    from playwright.sync_api import Error

    for attempt in range(5):
        frame = wait_map(pg, nth)
        try:
            return frame.evaluate(js, arg)
        except Error as e:
            if "detached" not in str(e) or attempt == 4:
                raise


def map_to_page(pg, frame, xy, nth: int = 0):
    """Map coordinates [M, 2] -> page coordinates, through the component's own view transform."""
    import numpy as np

    sx, sy, ox, oy = frame.evaluate("() => { const v = livemap.widget.view; return [v.sx, v.sy, v.ox, v.oy]; }")
    left, top = frame.evaluate(PLOT_ORIGIN)
    box = pg.locator(LIVEMAP).nth(nth).bounding_box()
    xy = np.atleast_2d(xy)
    return np.c_[box["x"] + left + 54 + ox + xy[:, 0] * sx, box["y"] + top + 10 + oy - xy[:, 1] * sy]


def isolated(px):
    """Index of a point well apart from its neighbours on screen (not a far outlier at the edge)."""
    import numpy as np
    from scipy.spatial import cKDTree

    d, _ = cKDTree(px).query(px, k=2)
    return int(np.argsort(-d[:, 1])[len(px) // 20])


def maps_answered(pg):
    """Every live map on the page has drawn and its first answer has come back from the server
    (the page ran again, telling it ready_known): no component message is still on its way to
    start a run. Back and Forward are pressed only then: a component's run that crosses a
    history step is run by Streamlit for the page it came from."""
    from playwright.sync_api import Error

    for attempt in range(5):
        try:
            for i in range(pg.locator(LIVEMAP).count()):
                frame = pg.locator(LIVEMAP).nth(i).element_handle().content_frame()
                frame.wait_for_function(
                    "() => window.livemap && livemap.widget && livemap.widget.args"
                    " && livemap.widget.args.ready_known === true",
                    timeout=WAIT_MS,
                )
            settle(pg)
            return
        except (Error, AttributeError) as e:  # a follow-up run replaced an iframe: look again
            if attempt == 4:
                raise
            if "detached" not in str(e) and not isinstance(e, AttributeError):
                raise


def shots(pg, name: str):
    """Full-page screenshots at 1400 and 800 px wide (the issue's two widths), then back to 1400."""
    size = pg.viewport_size
    for width in (1400, 800):
        pg.set_viewport_size({"width": width, "height": size["height"]})
        pg.wait_for_function("(w) => document.documentElement.clientWidth === w", arg=width, timeout=WAIT_MS)
        pg.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")  # laid out
        settle(pg)
        shot(pg, f"{name}-{width}")
    pg.set_viewport_size(size)
