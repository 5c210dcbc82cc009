"""A real browser on a real server: `streamlit run app.py`, driven with Playwright in Chromium.

Screenshots of every page land in test-artifacts/screenshots/ for a person to look at.
"""

import re
from contextlib import contextmanager

import pytest
from driver import NAV_TITLES, PIXELS, READ_CANVAS, SLIDERS, WAIT_MS, goto, no_exception, settle, shot, wait_map
from look import cut_labels, drawn, hover_a_point, overflow, width
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect


@pytest.mark.parametrize("px", [1400, 800])
def test_every_page_opens_without_an_exception(new_page, px):
    """Every page, drawn, at a wide and a narrow window: nothing sticks out of the column, no label
    is cut. The screenshots at 1400 px (and the hero: a hovered point) are the README's pictures
    (python -m scripts.docs_screenshots copies them to docs/)."""
    pg = new_page()
    width(pg, px)
    for i, nav in enumerate(NAV_TITLES):
        goto(pg, nav)
        drawn(pg)
        no_exception(pg)
        assert overflow(pg) == [] and cut_labels(pg) == [], (nav, overflow(pg), cut_labels(pg))
        shot(pg, f"{i + 1}-{nav.lower().replace(' ', '_')}" + ("" if px == 1400 else f"-{px}"))
        if i == 0 and px == 1400:
            hover_a_point(pg, "hero-latent-map")


def test_moving_a_slider_redraws_the_image_in_the_browser(new_page):
    """The Traverse sliders decode in the browser: a key press redraws the image, no rerun needed."""
    pg = new_page()
    goto(pg, "Traverse")
    pg.get_by_role("tab", name="Dimension sliders").click()
    frame = wait_map(pg, frame_title=SLIDERS)
    before = frame.evaluate(READ_CANVAS, ["[data-testid=lm-slider-canvas]", 10])
    frame.locator("input[type=range]").first.focus()
    for _ in range(20):
        frame.locator("input[type=range]").first.press("ArrowRight")
    frame.wait_for_function(
        f"([sel, scale, before]) => JSON.stringify(({PIXELS})(sel, scale)) !== JSON.stringify(before)",
        arg=["[data-testid=lm-slider-canvas]", 10, before],
        timeout=WAIT_MS,
    )
    no_exception(pg)
    shot(pg, "3b-traverse_sliders")


def test_map_overlays_draw(new_page):
    pg = new_page()
    pg.get_by_text("Posterior σ ellipses").click()
    settle(pg)
    pg.get_by_text("Prior samples N(0, I)").click()
    pg.get_by_text("samples from N(0, I), the classifier cannot name").wait_for(timeout=WAIT_MS)
    settle(pg)
    frame = wait_map(pg)  # the map itself carries both overlays, drawn
    drawn = """() => { const o = livemap.widget.args.overlays;
      return o.some(x => x.type === 'ellipses') && o.some(x => x.name === 'prior samples'); }"""
    frame.wait_for_function(drawn, timeout=WAIT_MS)
    no_exception(pg)
    shot(pg, "1b-latent_map_overlays")


SAVED = re.compile(r"^Saved vae-z2-digits-.*\.safetensors\.$")


def start_tiny_job(pg, epochs: int = 3) -> list[str]:
    """A tiny job (8x8 digits, z = 2): tests wait for states, never for a speed. Returns the
    "Saved ..." lines the page showed before the click (another test's job, shown to every browser)."""
    from driver import choose

    from vae_core.data import catalog

    goto(pg, "Train")
    choose(pg, "Dataset", catalog.title("digits"))  # the list shows datasets by their titles
    pg.get_by_label("Latent size", exact=True).fill("2")
    pg.get_by_label("Epochs", exact=True).fill(str(epochs))
    before = pg.get_by_text(SAVED).all_inner_texts()
    pg.get_by_role("button", name="Start training").click()
    return before


@contextmanager
def long_job(pg):
    """A job of 10,000 epochs (hours) owned by `pg`'s session, cancelled on the way out whatever
    happened in between: left running after a failed step, it held the server's one training slot
    and a core for the rest of the suite, and the next test's job queued behind it and failed too."""
    start_tiny_job(pg, epochs=10_000)
    try:
        yield
    finally:
        try:
            cancel = pg.get_by_role("button", name="Cancel")
            if cancel.count():
                pg.bring_to_front()
                cancel.first.click()
                pg.get_by_text("Cancelled; nothing was saved.").wait_for(timeout=WAIT_MS)
        except PlaywrightError:
            pass  # the page is gone: nothing more this test can do


def saved_name(pg, before: list[str]) -> str:
    """The model file this page's job saved: a "Saved ..." line not on the page before its start.
    (Until the click's rerun draws the new job, the page still shows the newest job on the
    server, which may be another test's, saved minutes ago.)"""
    pg.wait_for_function(
        """([pattern, before]) => [...document.querySelectorAll('[data-testid="stAlert"] p')]
            .some(p => new RegExp(pattern).test(p.textContent) && !before.includes(p.textContent))""",
        arg=[SAVED.pattern, before],
        timeout=WAIT_MS,
    )
    texts = [t for t in pg.get_by_text(SAVED).all_inner_texts() if t not in before]
    return texts[0][len("Saved ") : -1]


def test_a_fresh_job_trains_plays_its_film_and_outlives_a_refresh_read_only_elsewhere(new_page):
    pg = new_page()
    before = start_tiny_job(pg, epochs=3)
    pg.get_by_text("validation losses").first.wait_for(timeout=WAIT_MS)  # the live loss chart
    name = saved_name(pg, before)
    frame = wait_map(pg)  # the film: the codes of 500 validation digits, epoch 0 to 3
    frame.locator("input.lm-scrub").fill("0")
    expect(frame.locator(".lm-epoch")).to_have_text("epoch 0")
    frame.get_by_role("button", name="▶").click()
    frame.wait_for_function("() => document.querySelector('.lm-epoch').textContent === 'epoch 3'", timeout=WAIT_MS)
    shot(pg, "6b-train_done_film")

    pg.reload()  # a refresh is a new session: the finished job is still listed, with its model
    settle(pg)
    goto(pg, "Train")
    pg.get_by_text(f"Saved {name}.", exact=True).wait_for(timeout=WAIT_MS)
    other = new_page("train")  # another browser: sees the job, cannot cancel it
    other.get_by_text(f"Saved {name}.", exact=True).wait_for(timeout=WAIT_MS)
    pg.bring_to_front()  # the browser throttles pages in the background: act in the one in front
    with long_job(pg):  # a long one (hours), owned by the first session
        pg.get_by_role("button", name="Cancel").wait_for(timeout=WAIT_MS)
        other.bring_to_front()  # a page in the background polls slowly (the browser throttles its timers)
        other.get_by_text("Started in another browser", exact=False).wait_for(timeout=WAIT_MS)
        assert other.get_by_role("button", name="Cancel").count() == 0
        pg.bring_to_front()
        pg.get_by_role("button", name="Cancel").click()
        pg.get_by_text("Cancelled; nothing was saved.").wait_for(timeout=WAIT_MS)
    no_exception(pg)
    no_exception(other)
