"""The shipped shapes models (issue 20) on their pages, in-process: the map of all 663,552
training sprites from the shipped codes, coloured by a true factor; Traverse naming the factor
each dimension follows."""

import pytest
from streamlit.testing.v1 import AppTest
from support import ROOT

from ui.frame import probe


@pytest.fixture(autouse=True)
def user_models(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path / "user_models"))
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", "0")


def app_on(stem: str, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=600)
    at.run()
    box = at.sidebar.selectbox(key="model")
    box.select_index(next(i for i, o in enumerate(box.options) if f"— {stem} ·" in o)).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.parametrize("live", ["0", "1"])
def test_the_shapes_map_shows_every_sprite_and_colours_by_a_true_factor(live, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", live)
    at = app_on("shapes-vae-z10")
    assert at.title[0].value == "Latent map"
    assert any("663,552" in c.value for c in at.caption), [c.value for c in at.caption]
    colour = next(s for s in at.selectbox if s.label == "Colour by")
    assert list(colour.options) == ["class", "scale", "orientation", "pos_x", "pos_y"]
    colour.select("pos_x").run()
    assert not at.exception and not at.error, [e.value for e in at.error]


def test_traverse_names_the_factor_each_dimension_of_the_shapes_vae_follows():
    at = app_on("shapes-vae-z10", "views/traverse.py")
    assert not at.error, [e.value for e in at.error]
    sliders = [s for s in at.slider if s.key and s.key.startswith("sl_")]
    named = [s.label for s in sliders if " R² " in s.label]
    # the README's table: this VAE's active units follow position, scale and shape
    assert any("pos_x" in n for n in named) and any("pos_y" in n for n in named), [s.label for s in sliders]
    assert any("true factor" in c.value for c in at.caption)
    assert probe.read(at, "traverse_image") is not None


def test_compare_sets_the_shapes_vae_beside_its_beta_4_variant():
    """No shapes autoencoder or KL-only model ships: Compare shows the two VAEs of different β."""
    at = app_on("shapes-vae-z10", "views/compare.py")
    assert not at.error, [e.value for e in at.error]
    assert any("comparing its VAEs of different β" in i.value for i in at.info), [i.value for i in at.info]
    assert sorted(probe.read(at, "compare_models")) == ["shapes-bvae4-z10", "shapes-vae-z10"]
    # the measures follow: the prior's holes at z = 10 are fitted on the server's fit lane (minutes
    # here), the page showing their progress; or, once measured, each model's verdict by its β
    shown = " ".join(m.value for m in at.markdown)
    assert at.get("progress") or ("VAE, β = 1" in shown and "VAE, β = 4" in shown), shown
