"""Support for the live-map browser tests (their fixtures are in conftest.py): an offline
browser context, waits and map coordinates.

The live map in a real Chromium against `streamlit run tests/apps/livemap_demo.py`, offline.

Every request to anything but 127.0.0.1 is blocked (Playwright routing) and recorded, so the
tests also prove the component needs no network. Pixels are compared with the dataset and with
torch's `model.decode`; screenshots land in test-artifacts/livemap/ for a person to look at.
"""

import json
import re
import urllib.parse
import urllib.request

import numpy as np
from driver import PIXELS, READ_CANVAS, wait_map  # noqa: F401  (the shared canvas reader)
from scipy.spatial import cKDTree
from support import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "livemap"
WAIT = 180_000  # ms: a shared 2-core machine can be slow; every wait is on a state, not a clock
IFRAME = 'iframe[title="ui.livemap.component.livemap"]'
CHANGED = f"([sel, scale, before]) => JSON.stringify(({PIXELS})(sel, scale)) !== JSON.stringify(before)"


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


def open_demo(offline, server, demo):
    page = offline.ctx.new_page()
    page.goto(f"{server}/?demo={demo}")
    return page, wait_drawn(page)


def wait_drawn(page, nth=0):
    return wait_map(page, nth)  # tests/browser/driver.py: the nth map's frame once drawn, the script idle


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
