"""Every choice a user makes is honoured: picks, switches, selections, inputs (issue 8), in Chromium."""

from browser import WAIT_MS, no_exception, pick_model, settle, shot

ORDER = ["vae-z16", "ae-z16", "kl-z16", "ae-z2", "kl-z2", "vae-z2"]


def map_names(pg, stem: str):
    """The Latent map's caption names the model whose codes are drawn."""
    pg.get_by_text(f"under {stem}.", exact=False).first.wait_for(timeout=WAIT_MS)
    settle(pg)


def test_the_model_picker_honours_every_pick_twice_in_a_row(new_page):
    pg = new_page()
    for round_ in range(2):
        for stem in ORDER:
            pick_model(pg, stem)
            map_names(pg, stem)
            no_exception(pg)
    shot(pg, "choices-picker-last")
