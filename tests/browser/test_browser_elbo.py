"""The ELBO page in Chromium: four kinds of model at 1400 and 800 px, the numbers shown checked
against the identity they claim, the estimator section, picking another image, and the Latent
map's "See its ELBO" link.

Screenshots (the whole page): test-artifacts/screenshots/elbo-<model>-<width>.png,
elbo-val7-1400.png, elbo-train3-800.png and elbo-link-1400.png.
"""

import re

import pytest
from driver import WAIT_MS, goto, no_exception, pick_model, plot_ready, settle, shot
from support import ROOT

# What only that model's finished page shows, and how many plotly charts it draws.
MODELS = {
    "vae-z2": ("The latent plane of this digit", 4),
    "vae-z16": ("needs a 2-D latent", 4),
    "kl-z2": ("The posterior equals the prior", 4),
    "ae-z2": ("log p(x | z = code)", 0),
}
NUMBER = re.compile(r"[−-]?[\d,]+\.\d+")


def shown_identity(pg) -> list[tuple[float, list[tuple[str, float]]]]:
    """The sums the page prints ("…: −188.80 = −194.21 + 0.02 + 5.39"), as numbers."""
    rows = []
    for line in pg.locator(".st-key-elbo_identity").inner_text().splitlines():
        if " = " not in line or ":" not in line:
            continue
        left, right = line.rsplit(":", 1)[1].split(" = ")
        tokens = right.split()
        terms = [("", _num(tokens[0]))] + [(op, _num(v)) for op, v in zip(tokens[1::2], tokens[2::2], strict=True)]
        rows.append((_num(left), terms))
    return rows


def _num(text: str) -> float:
    assert NUMBER.fullmatch(text.strip()), text
    return float(text.strip().replace("−", "-").replace(",", ""))


def check_adds_up(rows) -> None:
    assert len(rows) == 2, rows
    for left, terms in rows:
        total = sum(-v if op == "−" else v for op, v in terms)
        assert abs(total - left) <= 0.005 * (len(terms) + 1) + 1e-9, (left, terms)


# One state, read in one go: the script has finished, the picked image's caption is shown, no
# progress bar is left and the model's marker text is there (a finished report, not a stale one).
REPORT_SHOWN = """([caption, marker]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const text = document.body.innerText;
  return app && app.dataset.testScriptState === "notRunning" && !document.querySelector(".st-key-elbo_progress")
    && text.includes(caption) && text.includes(marker);
}"""
RATIO = re.compile(r"score function's variance is\s+([\d,]+)×.+?\s+([\d,]+)×", re.S)


def wait_result(pg, marker: str, charts: int, caption: str = "") -> None:
    pg.wait_for_function(REPORT_SHOWN, arg=[caption, marker], timeout=WAIT_MS)
    settle(pg)
    if charts:
        plot_ready(pg, charts)
    no_exception(pg)


def check_estimators(pg) -> None:
    """The L/K curves and the gradient comparison are drawn, with the variance ratio they claim:
    the score function's gradient varies more than the reparameterised one (Kingma & Welling §2.3)."""
    for heading in ("Estimating it: L and K samples", "Gradients: reparameterised vs score function"):
        assert pg.get_by_role("heading", name=heading).count() == 1, heading
    found = RATIO.search(pg.locator('[data-testid="stMain"]').inner_text())
    assert found, "no variance ratio shown"
    assert all(float(v.replace(",", "")) > 1 for v in found.groups()), found.group(0)


@pytest.fixture(scope="module")
def exact_log_px():
    """log p(x) of validation digit 1 under vae-z2 and kl-z2, computed here by the engine."""
    import vae_core

    x = vae_core.load_dataset("mnist5k", "val").images[1:2]
    out = {}
    for stem in ("vae-z2", "kl-z2"):
        model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{stem}.safetensors")
        out[stem] = -float(vae_core.exact_nll(model, x)[0])
    return out


def test_the_elbo_page_for_four_kinds_of_model_at_two_widths(new_page, exact_log_px):
    pg = new_page()
    goto(pg, "ELBO")
    for width in (1400, 800):
        pg.set_viewport_size({"width": width, "height": 1800})
        for stem, (marker, charts) in MODELS.items():
            pick_model(pg, stem)
            wait_result(pg, marker, charts, "validation digit #1 ·")
            assert pg.get_by_text("validation digit #1 · class 0").count() >= 1
            if stem != "ae-z2":
                rows = shown_identity(pg)
                check_adds_up(rows)
                check_estimators(pg)
                if stem in exact_log_px:  # the page's log p(x) is the engine's, to the 0.01 shown
                    assert abs(rows[1][0] - exact_log_px[stem]) <= 0.006, (rows[1][0], exact_log_px[stem])
            else:
                pg.get_by_text("autoencoder has no ELBO").first.wait_for(timeout=WAIT_MS)
            shot(pg, f"elbo-{stem}-{width}", whole=True)


def test_the_latent_maps_selection_opens_the_elbo_of_that_digit(new_page):
    pg = new_page("?sel=12")  # a shared link's selection: training digit 12
    link = pg.get_by_role("link", name="See its ELBO")
    link.wait_for(timeout=WAIT_MS)
    link.click()
    pg.get_by_role("heading", name="The ELBO of one image").wait_for(timeout=WAIT_MS)
    wait_result(pg, *MODELS["vae-z2"], "training digit #12 ·")
    assert pg.get_by_text("training digit #12 ·", exact=False).count() >= 1
    assert "image=train%3A12" in pg.url or "image=train:12" in pg.url, pg.url
    check_adds_up(shown_identity(pg))
    shot(pg, "elbo-link-1400", whole=True)


def test_picking_another_image_recomputes_its_report(new_page):
    """As a user: type another validation index, then switch to the training digits; each time the
    page follows the background computation to that image's own report."""
    pg = new_page()
    goto(pg, "ELBO")
    marker, charts = MODELS["vae-z2"]
    wait_result(pg, marker, charts, "validation digit #1 ·")
    first = shown_identity(pg)

    box = pg.get_by_label(re.compile(r"^Validation digit #"))
    box.fill("7")
    box.press("Enter")
    wait_result(pg, marker, charts, "validation digit #7 ·")
    seventh = shown_identity(pg)
    check_adds_up(seventh)
    check_estimators(pg)
    assert seventh != first, "the numbers did not change with the image"
    assert "image=val%3A7" in pg.url or "image=val:7" in pg.url, pg.url
    shot(pg, "elbo-val7-1400", whole=True)

    pg.set_viewport_size({"width": 800, "height": 1800})
    pg.locator(".st-key-elbo_source").get_by_text("training digit", exact=True).click()
    settle(pg)
    box = pg.get_by_label(re.compile(r"^Training digit #"))
    box.fill("3")
    box.press("Enter")
    wait_result(pg, marker, charts, "training digit #3 ·")
    check_adds_up(shown_identity(pg))
    assert "image=train%3A3" in pg.url or "image=train:3" in pg.url, pg.url
    shot(pg, "elbo-train3-800", whole=True)
