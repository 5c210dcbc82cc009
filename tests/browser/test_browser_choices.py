"""Every choice a user makes is honoured: picks, switches, selections, inputs (issue 8), in Chromium.

Each test is a sequence of choices; after each one it checks that the page shows what was chosen.
"""

import numpy as np
import torch
from driver import WAIT_MS, goto, isolated, map_eval, map_to_page, no_exception, pick_model, settle, shot, wait_map
from PIL import Image
from playwright.sync_api import expect

ORDER = ["vae-z16", "ae-z16", "kl-z16", "ae-z2", "kl-z2", "vae-z2"]


def map_names(pg, stem: str):
    """The Latent map's caption names the model whose codes are drawn."""
    pg.get_by_text(f"under {stem}.", exact=False).first.wait_for(timeout=WAIT_MS)
    settle(pg)


def test_the_model_picker_honours_every_pick_twice_in_a_row(new_page):
    pg = new_page()
    for stem in ORDER * 2:
        pick_model(pg, stem)
        map_names(pg, stem)
        no_exception(pg)
    shot(pg, "choices-picker-last")


def top_kl_labels(stem: str) -> list[str]:
    """The Traverse page's names of a shipped model's two most informative dimensions."""
    from support import ROOT

    import vae_core
    from vae_core.analysis import latent
    from vae_core.model.estimators import encode_all
    from vae_core.model.losses import gaussian_kl

    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{stem}.safetensors")
    mean, logvar = encode_all(model, vae_core.load_dataset("mnist5k", "train").images)
    kl = gaussian_kl(mean, logvar).mean(0)
    order = latent.dimension_order(mean, logvar)[:2].tolist()
    return [f"z{j + 1} (KL {kl[j]:.2f})" for j in order]


def test_switching_models_on_traverse_gives_the_new_models_dimensions(new_page):
    pg = new_page()
    goto(pg, "Traverse")
    for stem in ("vae-z2", "vae-z16", "vae-z2", "vae-z16"):  # switched while the page stays on Traverse
        if stem != "vae-z2" or pg.get_by_text("Showing vae-z2").count() == 0:
            pick_model(pg, stem)
        rows, cols = top_kl_labels(stem)
        expect(pg.get_by_role("combobox", name="Rows vary")).to_have_value(rows, timeout=WAIT_MS)
        expect(pg.get_by_role("combobox", name="Columns vary")).to_have_value(cols, timeout=WAIT_MS)
        no_exception(pg)
    shot(pg, "choices-traverse-switch")


def native_codes(stem: str):
    """A shipped model's native 2-D map of mnist5k's training digits, computed here, not by the app."""
    from support import ROOT

    import vae_core
    from vae_core.model.estimators import encode_all

    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{stem}.safetensors")
    data = vae_core.load_dataset("mnist5k", "train")
    return encode_all(model, data.images)[0].numpy(), data


def test_a_clicked_point_stays_selected_through_overlay_toggles_until_cleared(new_page):
    xy, data = native_codes("vae-z2")
    pg = new_page()
    frame = wait_map(pg)
    px = map_to_page(pg, frame, xy)
    i = isolated(px)
    pg.mouse.click(float(px[i, 0]), float(px[i, 1]))
    caption = f"#{i} · class {data.classes[int(data.labels[i])]}"
    expect(pg.get_by_text(caption, exact=True).first).to_be_visible(timeout=WAIT_MS)  # a rerun may briefly show two
    pg.get_by_text("8 nearest neighbours in latent space").wait_for(timeout=WAIT_MS)
    for toggle in ("Posterior σ ellipses", "Prior samples N(0, I)", "Posterior σ ellipses"):
        pg.get_by_text(toggle).click()
        settle(pg)
        expect(pg.get_by_text(caption, exact=True).first).to_be_visible(timeout=WAIT_MS)  # a rerun may briefly show two
        no_exception(pg)
    for proj in ("PCA", "t-SNE", "native (z)"):  # another projection of the same points keeps it drawn
        pg.get_by_role("radio", name=proj).click()
        settle(pg)
        expect(pg.get_by_text(caption, exact=True).first).to_be_visible(timeout=WAIT_MS)  # a rerun may briefly show two
        frame = wait_map(pg)
        marked = "(i) => livemap.widget.selCount === 1 && livemap.widget.selected[i] === 1"
        frame.wait_for_function(marked, arg=i, timeout=WAIT_MS)
    shot(pg, "choices-map-selection-kept")
    pg.get_by_role("button", name="Clear selection").click()
    pg.get_by_text("Click a point to see its reconstruction").wait_for(timeout=WAIT_MS)
    settle(pg)
    assert pg.get_by_text("8 nearest neighbours in latent space").count() == 0


def digit_png(path, index: int, label: int):
    """A dataset digit of class `label` as dark ink on white paper, 240x240, saved at `path`."""
    from vae_core.data import load_dataset

    val = load_dataset("mnist5k", "val")
    digit = val.images[torch.nonzero(val.labels == label)[index, 0], 0].numpy()
    Image.fromarray((255 - digit * 255).astype(np.uint8)).resize((240, 240)).save(path)
    return path


def draw_one(pg):
    """One vertical stroke on the canvas: a '1'."""
    pg.get_by_role("tab", name="Draw").click()
    canvas = pg.locator("canvas").last
    canvas.wait_for(timeout=WAIT_MS)
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + 40
    pg.mouse.move(x, y)
    pg.mouse.down()
    for k in range(1, 31):
        pg.mouse.move(x, y + k * 6, steps=2)
    pg.mouse.up()


def test_encode_uses_the_newest_input_and_says_which(new_page, tmp_path):
    pg = new_page()
    goto(pg, "Encode")
    upload = pg.locator('[data-testid="stFileUploader"] input[type="file"]').first
    upload.set_input_files(str(digit_png(tmp_path / "seven.png", 0, 7)))
    pg.get_by_text("Encoding your upload").wait_for(timeout=WAIT_MS)
    settle(pg)
    expect(pg.get_by_text("Predicted class (10 nearest codes)")).to_be_visible()
    draw_one(pg)
    pg.get_by_text("Encoding your drawing").wait_for(timeout=WAIT_MS)
    settle(pg)
    no_exception(pg)
    shot(pg, "choices-encode-drawing-wins")
    pg.get_by_role("tab", name="Upload").click()
    upload.set_input_files(str(digit_png(tmp_path / "two.png", 1, 2)))
    pg.get_by_text("Encoding your upload").wait_for(timeout=WAIT_MS)
    settle(pg)
    no_exception(pg)


PATH_OVERLAY = "() => livemap.widget.args.overlays.find(o => o.type === 'polyline')"


def test_interpolate_shows_both_endpoints_and_marks_the_path(new_page):
    pg = new_page()
    goto(pg, "Interpolate")
    pg.get_by_text("start: #", exact=False).wait_for(timeout=WAIT_MS)
    expect(pg.get_by_text("end: #", exact=False).filter(has_text="class 7")).to_be_visible(timeout=WAIT_MS)
    path = map_eval(pg, PATH_OVERLAY)
    assert path["start"] == "start" and path["end"] == "end" and len(path["xy"]) == 10
    from driver import choose

    choose(pg, "End: class", "3")
    settle(pg)
    expect(pg.get_by_text("end: #", exact=False).filter(has_text="class 3")).to_be_visible(timeout=WAIT_MS)
    no_exception(pg)
    shot(pg, "choices-interpolate")


VIEW = "() => { const w = livemap.widget; return {sx: w.view.sx, sy: w.view.sy, labels: w.args.axis_labels}; }"


def test_compare_panels_are_equal_aspect_with_axis_titles(new_page):
    pg = new_page()
    goto(pg, "Compare")
    for step, d in (("z = 2, shared axes", 2), ("separate axes", 2), ("z = 16", 16)):
        if step == "separate axes":
            pg.get_by_text("Same axes for all three").click()
            expect(pg.get_by_role("switch", name="Same axes for all three")).not_to_be_checked(timeout=WAIT_MS)
        if step == "z = 16":
            pg.get_by_role("radio", name="z = 16").click()
        # the page shows what was chosen: it names the three models of that latent size
        expect(pg.get_by_text(f"Comparing ae-z{d} · kl-z{d} · vae-z{d} (z = {d}).")).to_be_visible(timeout=WAIT_MS)
        settle(pg)
        views = [wait_map(pg, nth).evaluate(VIEW) for nth in range(3)]
        for panel in views:  # pixels per unit, the same along both axes: the prior's circle is round
            assert abs(panel["sx"] / panel["sy"] - 1) < 0.02, (step, panel)
            assert all(panel["labels"]), (step, panel)
        no_exception(pg)
    shot(pg, "choices-compare")
