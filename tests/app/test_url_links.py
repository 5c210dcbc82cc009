"""Links are untrusted input and the whole view (issues 17.2 and 18.9), driven with AppTest.

A link opened in a new session shows the view it names; a hostile link never raises, falls
back to defaults for what it cannot use and says so in one note that stays until the user
changes the view.
"""

import random

import pytest
from streamlit.testing.v1 import AppTest
from support import ROOT

from ui.frame import url
from ui.frame.pages import VIEW_FILES
from vae_core.io.projection_cache import file_digest

NOTE = "Part of this link could not be used"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path / "user_models"))
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", "0")


def open_link(page: str, params: dict) -> AppTest:
    """A new session (a fresh browser) opening PAGE?PARAMS."""
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=240)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def notes(at) -> list[str]:
    return [i.value for i in at.sidebar.info if NOTE in i.value]


def test_out_of_range_and_non_finite_projection_parameters_fall_back_with_one_note_that_stays():
    link = {"proj": "umap", "n_neighbors": "-5", "min_dist": "nan", "perplexity": "1e308"}
    at = open_link("views/latent_map.py", link)
    assert [s.value for s in at.slider] == [15, 0.1]  # the defaults, not the link's values
    (note,) = notes(at)
    assert "n_neighbors=-5 (outside 5 to 100)" in note and "min_dist=nan (not a finite number)" in note
    at.run()  # a rerun the user did not cause (a component, a poll): the note stays
    assert len(notes(at)) == 1 and not at.exception
    next(b for b in at.button_group if b.label == "Projection").set_value("tsne").run()
    assert notes(at) == [] and not at.exception  # the user changed the view: the note has done its job
    assert at.query_params["proj"] == "tsne" and at.query_params["perplexity"] == "30"  # the URL is clean
    for bad in ("inf", "-inf", "1e308", "0", "30.5.1"):
        at = open_link("views/latent_map.py", {"proj": "tsne", "perplexity": bad})
        assert [s.value for s in at.slider] == [30] and len(notes(at)) == 1, bad


def test_a_link_to_weights_that_are_not_here_keeps_its_note_until_the_user_acts():
    at = open_link("views/latent_map.py", {"model": "0123456789ab", "proj": "pca"})
    assert "no model here has these weights" in notes(at)[0]
    assert "Showing **vae-z2**" in at.sidebar.caption[0].value
    at.run()
    at.run()
    assert len(notes(at)) == 1  # not one run only
    at.toggle(key="map_prior").set_value(True).run()
    assert notes(at) == []


Z16 = file_digest(ROOT / "checkpoints" / "vae-z16.safetensors")[: url.DIGEST]
LINKS = {  # one link per page, every key it owns away from its default
    "views/latent_map.py": {
        "model": Z16,
        "proj": "native",
        "sigma": "1",
        "colour": "slant",
        "classes": "1,3,7",
        "3d": "1",
        "3d_view": "native",
        "sel": "3,10-12",
    },
    "views/interpolate.py": {
        "start_class": "3",
        "start_index": "4",
        "end_class": "0",
        "end_index": "2",
        "path": "spherical",
        "steps": "7",
        "proj": "pca",
    },
    "views/traverse.py": {
        "start": "digit",
        "digit_class": "5",
        "digit_index": "1",
        "tab": "directions",
        "rows": "1",
        "cols": "0",
        "grid": "9",
        "range": "sigma",
        "s": "3",
        "attr": "slant",
        "toward": "8",
        "export": "1",
    },
    "views/sample.py": {"seed": "7"},
    "views/compare.py": {"size": "16", "same_axes": "0", "proj": "native"},
    "views/encode.py": {"input": "draw"},  # (its map needs an upload or a drawing, which no link carries)
}


@pytest.mark.parametrize("page", list(LINKS))
def test_a_link_opened_in_a_new_session_shows_its_view(page):
    link = LINKS[page]
    at = open_link(page, link)
    assert notes(at) == []
    # What the page will write once the user changes anything: the link itself, every key kept.
    written = at.session_state["_url_base"]
    assert {k: written.get(k) for k in link} == link


def test_the_url_written_after_a_change_keeps_the_rest_of_the_view():
    at = open_link("views/latent_map.py", LINKS["views/latent_map.py"])
    at.toggle(key="map_prior").set_value(True).run()
    written = dict(at.query_params)
    assert written["prior"] == "1"
    assert {k: written.get(k) for k in LINKS["views/latent_map.py"]} == LINKS["views/latent_map.py"]


HOSTILE = [
    "",
    "nan",
    "-inf",
    "1e308",
    "-1",
    "99999999999999999999999999",
    "0x10",
    "１",
    "true",
    "1,2,3,4,5,6,7,8,9,10,11,12",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "**bold** [x](javascript:alert(1))",
    "\x00",
    "\u202e\u0635",
    "9" * 5000,
    "a," * 20_000,
]


# Values that open the way to other keys (a projection whose parameters are then read, a tab, a
# digit start), so that the hostile values behind them reach their checks.
OPENERS = {
    "proj": ["umap", "tsne", "pca", "native"],
    "3d": ["1"],
    "3d_view": ["umap", "native"],
    "start": ["digit"],
    "start_from": ["upload", "dataset digit"],
    "end_from": ["upload"],
    "range": ["sigma", "quantile"],
    "tab": ["sliders", "directions"],
    "size": ["16", "2"],
    "input": ["draw"],
    "model": [Z16],
}


@pytest.mark.parametrize("page", VIEW_FILES)
def test_hostile_links_never_raise_on_any_page(page):
    rng = random.Random(page)
    for _ in range(3):
        link = {
            k: rng.choice(OPENERS[k] if k in OPENERS and rng.random() < 0.6 else HOSTILE)
            for k in url.KEYS
            if rng.random() < 0.8
        }
        at = open_link(page, link)
        assert len(notes(at)) <= 1
        assert all(len(n) < 3000 and "<script>" not in n and "**" not in n for n in notes(at))
