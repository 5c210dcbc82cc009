"""Issue 17, items 1-4 in Chromium: Back and Forward, links that are the whole view, segmented
controls that stay chosen, state that survives leaving a page. Each test is a sequence of user
actions with the page checked after every step."""

import re

from driver import WAIT_MS, choose, goto, map_eval, maps_answered, no_exception, pick_model, settle, shots
from playwright.sync_api import expect
from test_browser_choices import digit_png, draw_one


def entries(pg) -> int:
    return pg.evaluate("() => history.length")


def wait_url(pg, *parts: str):
    """The address bar holds every part (e.g. 'proj=pca'): the page wrote this run's choices."""
    pg.wait_for_function("(parts) => parts.every((p) => location.search.includes(p))", arg=list(parts), timeout=WAIT_MS)


def link(pg) -> str:
    return pg.url.split("/", 3)[3]


def checked(pg, role: str, name: str):
    expect(pg.get_by_role(role, name=name, exact=True)).to_be_checked(timeout=WAIT_MS)


def test_back_and_forward_step_through_views_and_restore_each(new_page):
    pg = new_page()
    maps_answered(pg)
    first = entries(pg)
    pg.get_by_role("radio", name="PCA").click()
    wait_url(pg, "proj=pca")
    pg.get_by_text("Posterior σ ellipses").click()
    wait_url(pg, "proj=pca", "sigma=1")
    maps_answered(pg)
    assert entries(pg) == first  # two choices on one page: its entry is replaced, none added

    goto(pg, "Interpolate")
    pg.get_by_role("radio", name="spherical").click()
    wait_url(pg, "path=spherical")
    maps_answered(pg)
    assert entries(pg) == first + 1  # a new page is one entry, whatever the page writes
    goto(pg, "Sample")
    pg.get_by_label("Seed", exact=True).fill("3")
    pg.get_by_label("Seed", exact=True).press("Enter")
    wait_url(pg, "seed=3")
    settle(pg)
    assert entries(pg) == first + 2
    no_exception(pg)

    pg.go_back()  # to Interpolate, as it was left
    settle(pg, "Interpolate")
    checked(pg, "radio", "spherical")
    wait_url(pg, "path=spherical")
    maps_answered(pg)
    pg.go_back()  # to the Latent map, as it was left
    settle(pg, "Latent map")
    checked(pg, "radio", "PCA")
    checked(pg, "switch", "Posterior σ ellipses")
    maps_answered(pg)
    assert pg.url.split("?")[0].endswith("/") and "proj=pca" in pg.url
    pg.go_forward()
    settle(pg, "Interpolate")
    checked(pg, "radio", "spherical")
    maps_answered(pg)
    pg.go_forward()
    settle(pg, "Sample")
    expect(pg.get_by_label("Seed", exact=True)).to_have_value("3", timeout=WAIT_MS)
    assert entries(pg) == first + 2  # Back and Forward added nothing and cut nothing off
    no_exception(pg)
    shots(pg, "nav-forward-to-sample")


def test_a_link_is_the_whole_view_in_a_fresh_browser(new_page):
    pg = new_page()
    pick_model(pg, "vae-z16")
    pg.get_by_text("under vae-z16.", exact=False).wait_for(timeout=WAIT_MS)
    maps_answered(pg)  # the new model's controls are the ones clicked next
    pg.get_by_role("radio", name="UMAP").click()
    wait_url(pg, "proj=umap")
    pg.get_by_text("Posterior σ ellipses").click()
    choose(pg, "Colour by", "slant")
    pg.get_by_text("3-D view", exact=True).click()
    pg.get_by_role("radio", name="native (3 highest-KL axes)").click()
    wait_url(pg, "proj=umap", "sigma=1", "colour=slant", "3d=1", "3d_view=native")
    settle(pg)
    other = new_page(link(pg))  # a new browser context: a new user with only the link
    other.get_by_text("Showing vae-z16", exact=False).wait_for(timeout=WAIT_MS)
    checked(other, "radio", "UMAP")
    checked(other, "switch", "Posterior σ ellipses")
    expect(other.get_by_role("combobox", name="Colour by")).to_have_value("slant", timeout=WAIT_MS)
    checked(other, "switch", "3-D view")
    checked(other, "radio", "native (3 highest-KL axes)")
    no_exception(other)
    shots(other, "nav-link-latent-map")

    goto(pg, "Interpolate")
    choose(pg, "End: class", "3")
    pg.get_by_role("radio", name="spherical").click()
    steps = pg.get_by_role("slider", name="Steps")
    steps.focus()
    for _ in range(3):
        steps.press("ArrowLeft")
    wait_url(pg, "end_class=3", "path=spherical", "steps=7")
    settle(pg)
    other = new_page(link(pg))
    other.get_by_role("heading", name="Interpolate").wait_for(timeout=WAIT_MS)
    settle(other)
    checked(other, "radio", "spherical")
    expect(other.get_by_text(re.compile(r"^7 decoded steps, spherical"))).to_be_visible(timeout=WAIT_MS)
    expect(other.get_by_text("end: #", exact=False).filter(has_text="class 3")).to_be_visible(timeout=WAIT_MS)
    no_exception(other)

    goto(pg, "Traverse")
    pg.get_by_role("tab", name="Directions").click()
    pg.get_by_text("a digit's code", exact=True).click()
    wait_url(pg, "tab=directions", "start=digit")
    settle(pg)
    other = new_page(link(pg))
    other.get_by_role("heading", name="Traverse").wait_for(timeout=WAIT_MS)
    settle(other)
    expect(other.get_by_role("tab", name="Directions")).to_have_attribute("aria-selected", "true", timeout=WAIT_MS)
    checked(other, "radio", "a digit's code")
    no_exception(other)
    shots(other, "nav-link-traverse")


def test_a_hostile_link_gets_defaults_and_one_note_until_the_user_acts(new_page):
    pg = new_page("?proj=umap&n_neighbors=-5&min_dist=nan&perplexity=1e308&colour=%3Cscript%3E&sel=1-1e9")
    note = pg.get_by_text("Part of this link could not be used", exact=False)
    note.wait_for(timeout=WAIT_MS)
    expect(note).to_contain_text("n_neighbors=-5")
    expect(note).to_contain_text("min_dist=nan")
    checked(pg, "radio", "UMAP")
    expect(pg.get_by_role("slider", name="n_neighbors")).to_have_value("15", timeout=WAIT_MS)
    expect(pg.get_by_role("combobox", name="Colour by")).to_have_value("class", timeout=WAIT_MS)
    no_exception(pg)
    maps_answered(pg)
    expect(note).to_be_visible()  # the map's own runs are not the user's: the note stays
    shots(pg, "nav-hostile-link")
    pg.get_by_text("Posterior σ ellipses").click()
    wait_url(pg, "sigma=1", "n_neighbors=15")
    expect(note).to_have_count(0, timeout=WAIT_MS)
    no_exception(pg)


def test_clicking_the_chosen_option_of_a_segmented_control_keeps_it(new_page):
    pg = new_page()
    pick_model(pg, "vae-z16")  # (at z = 2, PCA is the native map: here they differ)
    pg.get_by_text("under vae-z16.", exact=False).wait_for(timeout=WAIT_MS)
    maps_answered(pg)
    for option, label in (("PCA", "PC1"), ("PCA", "PC1"), ("native (z)", "z"), ("native (z)", "z")):
        pg.get_by_role("radio", name=option).click()
        settle(pg)
        checked(pg, "radio", option)
        wait_url(pg, "proj=" + ("pca" if option == "PCA" else "native"))
        maps_answered(pg)
        assert map_eval(pg, "() => livemap.widget.args.axis_labels[0]").startswith(label)  # the map drawn is that one
    no_exception(pg)
    for page, option in (("Interpolate", "linear"), ("Traverse", "prior quantiles"), ("Compare", "z = 16")):
        goto(pg, page)
        for _ in range(2):
            pg.get_by_role("radio", name=option, exact=True).click()
            settle(pg)
            checked(pg, "radio", option)
        no_exception(pg)
    expect(pg.get_by_text("Comparing ae-z16 · kl-z16 · vae-z16 (z = 16).")).to_be_visible(timeout=WAIT_MS)
    shots(pg, "nav-segmented-compare")


def test_choices_and_inputs_survive_leaving_a_page_and_coming_back(new_page, tmp_path):
    pg = new_page()
    choose(pg, "Colour by", "slant")
    wait_url(pg, "colour=slant")
    goto(pg, "Encode")
    pg.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
        str(digit_png(tmp_path / "seven.png", 0, 7))
    )
    pg.get_by_text("Encoding your upload").wait_for(timeout=WAIT_MS)
    draw_one(pg)
    pg.get_by_text("Encoding your drawing").wait_for(timeout=WAIT_MS)
    settle(pg)
    goto(pg, "Traverse")
    pg.get_by_text("a digit's code", exact=True).click()
    settle(pg)
    choose(pg, "Digit: class", "5")
    pg.get_by_role("tab", name="Directions").click()
    wait_url(pg, "start=digit", "digit_class=5", "tab=directions")
    settle(pg)

    goto(pg, "Latent map")
    expect(pg.get_by_role("combobox", name="Colour by")).to_have_value("slant", timeout=WAIT_MS)
    goto(pg, "Encode")
    pg.get_by_text("Encoding your drawing").wait_for(timeout=WAIT_MS)  # the newer input, kept
    expect(pg.get_by_role("tab", name="Draw")).to_have_attribute("aria-selected", "true")
    pg.get_by_role("tab", name="Upload").click()
    expect(pg.get_by_text("Still using your earlier upload", exact=False)).to_be_visible(timeout=WAIT_MS)
    no_exception(pg)
    shots(pg, "nav-encode-kept")
    goto(pg, "Traverse")
    expect(pg.get_by_role("tab", name="Directions")).to_have_attribute("aria-selected", "true", timeout=WAIT_MS)
    checked(pg, "radio", "a digit's code")
    expect(pg.get_by_role("combobox", name="Digit: class")).to_have_value("5", timeout=WAIT_MS)
    no_exception(pg)
