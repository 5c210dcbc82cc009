"""A real browser on a real server: `streamlit run app.py`, driven with Playwright in Chromium.

Screenshots of every page land in test-artifacts/screenshots/ for a person to look at.
"""

import re

from browser import NAV_TITLES, WAIT_MS, goto, no_exception, settle, shot


def test_every_page_opens_without_an_exception(new_page):
    pg = new_page()
    for i, nav in enumerate(NAV_TITLES):
        goto(pg, nav)
        no_exception(pg)
        shot(pg, f"{i + 1}-{nav.lower().replace(' ', '_')}")


def test_moving_a_slider_redraws_the_image(new_page):
    pg = new_page()
    goto(pg, "Traverse")
    pg.get_by_role("tab", name="Dimension sliders").click()
    img = pg.locator('[data-testid="stImage"] img').last
    before = img.get_attribute("src")
    thumb = pg.get_by_role("slider", name=re.compile(r"^z\d")).first  # a latent dimension's slider
    thumb.focus()
    for _ in range(20):
        pg.keyboard.press("ArrowRight")
    pg.wait_for_function(
        "(before) => { const imgs = document.querySelectorAll('[data-testid=\"stImage\"] img');"
        " return imgs[imgs.length - 1].src !== before; }",
        arg=before,
        timeout=WAIT_MS,
    )
    no_exception(pg)
    shot(pg, "3b-traverse_sliders")


def test_map_overlays_draw(new_page):
    pg = new_page()
    pg.get_by_text("Posterior σ ellipses (200 points)").click()
    settle(pg)
    pg.get_by_text("Prior samples N(0, I)").click()
    pg.get_by_text("of 1,000 prior samples land in holes").wait_for(timeout=WAIT_MS)
    settle(pg)
    no_exception(pg)
    shot(pg, "1b-latent_map_overlays")


def test_training_from_the_browser_shows_live_progress_and_finishes(new_page):
    """A tiny job (8x8 digits, z = 2, 2 epochs): the test waits for states, never for a speed."""
    from browser import choose

    pg = new_page()
    goto(pg, "Train")
    choose(pg, "Dataset", "digits")
    pg.get_by_label("Latent size", exact=True).fill("2")
    pg.get_by_label("Epochs", exact=True).fill("2")
    pg.get_by_role("button", name="Start training").click()
    pg.get_by_text("validation losses").first.wait_for(timeout=WAIT_MS)  # the live loss chart
    pg.get_by_text(re.compile(r"^Saved vae-z2-digits-.*\.safetensors\.$")).wait_for(timeout=WAIT_MS)
    settle(pg)
    no_exception(pg)
    shot(pg, "6b-train_done")
