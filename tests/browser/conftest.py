"""Browser tests: one app server per session, a fresh browser context (= a new user) per test,
and the live map's demo app (test_livemap_*.py; helpers in livemap_support.py)."""

import pytest
import torch
from support import ROOT

# --- browser tests: one server per session, a fresh browser context (= a new user) per test ---


def pytest_collection_modifyitems(items):
    """A failed browser test runs once more in a fresh browser context before it counts. Known, not
    hidden: in whole-suite runs a different few of them failed while each passed alone. Causes
    found and fixed in round three's last session: a rerun replacing the map's iframe while a test
    waited on the old one, the image route forgetting a map's images once 16 other sets came after
    them, the jobs list redrawn every second closing a drop-down, a click after a download that
    only focused a select, a list opened below the viewport, a test reading another test's saved
    job. Of the last two whole-suite runs one needed three retries and the newest none: the retry
    stays until runs need none as a rule (closing note)."""
    for item in items:
        if "/tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.flaky(reruns=1))


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    from driver import serving_app

    with serving_app(tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    from driver import FLAGS, chromium_path
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, app_server):
    """new_page(path="") opens the app in a new browser context: a new user with a new session."""
    contexts = []

    def open_page(path: str = ""):
        from driver import settle

        ctx = chromium.new_context(viewport={"width": 1400, "height": 1800})
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.goto(f"{app_server}/{path}")
        settle(pg)
        return pg

    yield open_page
    for ctx in contexts:
        ctx.close()


# --- the live map's demo app (tests/test_livemap_*.py; helpers in livemap_support.py) ---


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run tests/apps/livemap_demo.py` on a free loopback port (tests/browser/driver.py)."""
    from driver import start_server

    env = {"VAE_EXPLORER_LIVEMAP_CACHE": str(tmp_path_factory.mktemp("livemap_cache"))}
    proc, url = start_server("tests/apps/livemap_demo.py", env, tmp_path_factory.mktemp("log") / "streamlit.log")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser(chromium):
    """The session's Chromium (conftest.py): one Playwright per test run."""
    from livemap_support import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return chromium


@pytest.fixture(scope="module")
def offline(browser):
    from livemap_support import Offline

    o = Offline(browser)
    yield o
    o.ctx.close()


@pytest.fixture(scope="module")
def z2():
    """vae-z2 and its native map of mnist5k's training digits, computed here, not by the app."""
    import vae_core
    from vae_core.analysis import projection
    from vae_core.model.estimators import encode_all

    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z2.safetensors")
    data = vae_core.load_dataset("mnist5k", "train")
    with torch.inference_mode():
        mean, _ = encode_all(model, data.images)
    return model, data, projection.fit_projection(mean.numpy(), "native")
