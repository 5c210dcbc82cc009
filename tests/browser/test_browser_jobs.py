"""Issue 17, items 5 and 6 in Chromium: a refresh keeps a job its owner's and the form as it was;
your own models renamed and deleted; the training film downloaded as a GIF."""

import re

from driver import WAIT_MS, choose_typed, goto, no_exception, pick_model, settle, shots
from PIL import Image
from playwright.sync_api import expect
from test_browser import long_job, saved_name, start_tiny_job

from vae_core.data import catalog


def test_a_refresh_keeps_the_job_its_owners_and_the_form_as_it_was(new_page):
    pg = new_page()
    with long_job(pg):  # hours: it is running whenever the page is looked at
        pg.get_by_role("button", name="Cancel").wait_for(timeout=WAIT_MS)
        job = pg.get_by_text(re.compile(r"^Job \d+: (queued|running)"))
        job.first.wait_for(timeout=WAIT_MS)
        number = re.match(r"Job (\d+)", job.first.inner_text()).group(1)

        pg.reload()  # a new websocket session, the same browser
        settle(pg, "Train a model")
        pg.get_by_role("button", name="Cancel").wait_for(timeout=WAIT_MS)  # still this browser's job
        assert pg.get_by_text("Started in another browser", exact=False).count() == 0
        expect(pg.get_by_label("Latent size", exact=True)).to_have_value("2", timeout=WAIT_MS)  # the form as submitted
        expect(pg.get_by_label("Epochs", exact=True)).to_have_value("10000")
        expect(pg.get_by_role("combobox", name="Dataset")).to_have_value(catalog.title("digits"))  # shown by its title
        no_exception(pg)
        shots(pg, "jobs-after-refresh")

        pg.get_by_role("button", name="Cancel").click()
        pg.get_by_text("Cancelled; nothing was saved.").wait_for(timeout=WAIT_MS)
        expect(pg.get_by_text(f"Job {number}: cancelled (nothing saved)", exact=True)).to_be_visible(timeout=WAIT_MS)
        table = pg.locator('[data-testid="stDataFrame"]').first  # read through the grid's accessible table
        row = table.locator("tr").filter(has=pg.locator('td[aria-colindex="1"]', has_text=re.compile(rf"^{number}$")))
        expect(row).to_contain_text("cancelled (nothing saved)", timeout=WAIT_MS)  # spelt out, never cut
        expect(row).not_to_contain_text(".safetensors")  # a cancelled job wrote no file and lists none
        no_exception(pg)


def test_your_models_are_renamed_and_deleted_and_the_film_downloads_as_a_gif(new_page):
    pg = new_page()
    name = saved_name(pg, start_tiny_job(pg, epochs=2))
    settle(pg)
    with pg.expect_download(timeout=WAIT_MS) as info:
        pg.get_by_role("button", name="Download the film (GIF)").click()
    film = Image.open(info.value.path())
    assert film.format == "GIF" and film.n_frames == 3  # epochs 0, 1 and 2
    assert info.value.suggested_filename == name.replace(".safetensors", "-film.gif")
    # The rename and delete part, as a user comes back to it: the page loaded anew, the job done
    # (nothing on it redraws by itself; right after the save, the page's own reruns that list the
    # model could close a list opened meanwhile)
    pg.reload()
    settle(pg, "Train a model")
    choose_typed(pg, "Your model", name)
    box = pg.get_by_role("combobox", name="Your model")  # only this server's models folder is offered
    box.focus()
    box.press("ArrowDown")  # open the list from the keyboard: its options are read, not pointed at
    pg.get_by_role("option").first.wait_for(state="attached", timeout=WAIT_MS)
    offered = pg.get_by_role("option").all_inner_texts()
    pg.keyboard.press("Escape")
    settle(pg)
    assert offered and not any(o.startswith(("vae-z2.", "ae-z", "kl-z", "vae-z16")) for o in offered), offered
    for hostile in ("../escape", "a/b", ".hidden"):
        pg.get_by_label("New name", exact=True).fill(hostile)
        pg.get_by_role("button", name="Rename").click()
        pg.get_by_text("cannot be a model's name", exact=False).wait_for(timeout=WAIT_MS)
        settle(pg)
    pg.get_by_label("New name", exact=True).fill("my-digits")
    pg.get_by_role("button", name="Rename").click()
    pg.get_by_text("Renamed to my-digits.safetensors.").wait_for(timeout=WAIT_MS)
    settle(pg)
    pick_model(pg, "my-digits")  # the picker lists it under its new name
    pg.get_by_text("Showing my-digits", exact=False).wait_for(timeout=WAIT_MS)
    no_exception(pg)

    goto(pg, "Train")
    choose_typed(pg, "Your model", "my-digits.safetensors")
    delete = pg.get_by_role("button", name="Delete")
    expect(delete).to_be_disabled()  # not without saying yes
    pg.get_by_text("Yes, delete my-digits.safetensors for good").click()
    delete.click()
    pg.get_by_text("Deleted my-digits.safetensors.").wait_for(timeout=WAIT_MS)
    settle(pg)
    sidebar = pg.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("combobox", name="Model").click()
    pg.keyboard.type("my-digits")  # the list is virtual: typed, every model of that name would be shown
    assert not any("my-digits" in o for o in pg.get_by_role("option").all_inner_texts())
    pg.keyboard.press("Escape")
    no_exception(pg)
    shots(pg, "jobs-your-models")
