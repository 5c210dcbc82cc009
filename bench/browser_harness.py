"""The harness the browser benchmarks share: a real `streamlit run` on a free port, Debian's
Chromium, the app's iframe once drawn, bytes on the wire, a model's link id (bench/browser.py,
bench/million.py)."""

from __future__ import annotations

import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FLAGS += ["--disable-component-update", "--disable-sync", "--no-first-run"]
IFRAME = 'iframe[title="ui.livemap.component.livemap"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
WAIT = 300_000


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(script: str, env: dict | None = None):
    """A fresh `streamlit run script` process: (url, launch time (perf_counter), {"healthy_s": launch ->
    health check, "pid", "launched": the launch as wall-clock seconds, for shown_at})."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    t0, launched = time.perf_counter(), time.time()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            if proc.poll() is not None or time.perf_counter() - t0 > 120:
                raise RuntimeError("streamlit did not start") from None
            time.sleep(0.1)
    try:
        yield url, t0, {"healthy_s": time.perf_counter() - t0, "pid": proc.pid, "launched": launched}
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        yield b
        b.close()


def stats(xs) -> dict:
    xs = sorted(xs)
    if not xs:
        return {"n": 0}
    return {"median": statistics.median(xs), "p95": xs[min(len(xs) - 1, int(0.95 * len(xs)))], "n": len(xs)}


class WireMeter:
    """Bytes the browser receives: websocket frames and HTTP bodies, via DevTools."""

    def __init__(self, page):
        self.ws = 0
        self.http = 0
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameReceived", self.on_frame)
        cdp.on("Network.dataReceived", lambda e: setattr(self, "http", self.http + e.get("encodedDataLength", 0)))

    def on_frame(self, e):
        r = e["response"]
        data = r.get("payloadData", "")
        self.ws += len(base64.b64decode(data)) if r.get("opcode") == 2 else len(data.encode())

    def reset(self):
        self.ws = self.http = 0

    def total(self):
        return self.ws + self.http


def rerun_bytes(page, meter, actions) -> dict:
    """Bytes received (websocket, HTTP) while each (name, action) and its rerun run.

    Streamlit resends an unchanged element of 10 kB or more as a reference to the copy the
    browser kept from the last two runs, so only reruns that change an element cost its bytes:
    each action is reported on its own instead of a median that would hide that.
    """
    page.evaluate(COUNT_RUNS)
    out = {}
    for name, action in actions:
        page.wait_for_selector(IDLE, timeout=WAIT)
        page.wait_for_timeout(500)  # let the previous run's last frames arrive before counting
        runs = page.evaluate("() => window.__runs")
        meter.reset()
        action()
        page.wait_for_function(DONE, arg=runs, timeout=WAIT)
        page.wait_for_timeout(500)
        out[name] = {"ws": meter.ws, "http": meter.http}
    return out


COUNT_RUNS = """() => { if (window.__runs !== undefined) return; window.__runs = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => { if (app.dataset.testScriptState === 'running') window.__runs++; })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""
DONE = """(n) => window.__runs > n &&
  document.querySelector('[data-testid="stApp"]').dataset.testScriptState === 'notRunning'"""


def shown_at(frame) -> float:
    """When the map's first frame was on screen, in wall-clock seconds, by the page's own clock
    (map.js: the frame after the first draw began). Playwright's waits for the iframe and its
    selector see it 0.5-1.5 s later on this machine while the renderer is busy (the ONNX runtime
    loading after the first draw): timed by them, a first draw measures the driver, not the page."""
    frame.wait_for_function("() => livemap.widget && livemap.widget.metrics.firstShown !== null", timeout=WAIT)
    return frame.evaluate("() => performance.timeOrigin + livemap.widget.metrics.firstShown") / 1000


def frame_of(page):
    el = page.locator(IFRAME).first
    el.wait_for(timeout=WAIT)
    frame = el.element_handle().content_frame()
    frame.wait_for_selector("body[data-drawn='1']", timeout=WAIT)
    return frame


def model_link(stem: str) -> str:
    """The shareable-URL id of a shipped model (ui/share: the first 12 hex of its sha256)."""
    from vae_core.io.projection_cache import file_digest

    return file_digest(ROOT / "checkpoints" / f"{stem}.safetensors")[:12]
