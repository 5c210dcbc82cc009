"""The ELBO page through Streamlit's AppTest: every kind of model, the link from the Latent map,
uploads, and the background work (a page run never waits for a report)."""

import io
import threading

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from support import ROOT, option_of

from ui.frame import probe
from ui.services import elbo

PAGE = "views/elbo.py"


@pytest.fixture(autouse=True)
def small_reports(tmp_path, monkeypatch):
    """Small estimator sizes (the report's own settings) keep the suite quick; user folders and
    caches in tmp; plotly maps (AppTest runs no JavaScript)."""
    from vae_core.analysis.elbo import ElboSettings

    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path / "user_models"))
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", "0")
    small = ElboSettings(curve_ns=(1, 10, 100), curve_repeats=4, gradient_ns=(1, 5, 10), gradient_repeats=6)
    monkeypatch.setattr(elbo, "SETTINGS", small)
    yield
    assert elbo.wait_all(timeout=300), "a report still running after the test"


def app(stem: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if stem:
        box = at.sidebar.selectbox(key="model")
        box.select_index(option_of(box.options, stem)).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def finished(at: AppTest) -> AppTest:
    """Wait for the background report (on its future, not on a clock), then rerun as the page's
    progress fragment does when it sees the report done."""
    assert elbo.wait_all(timeout=300)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def adds_up(rows) -> bool:
    """The numbers shown (rounded to 0.01) add up to the identity within rounding."""
    for _, left, right in rows:
        total = sum(-v if op == "−" else v for op, v in right)
        if abs(total - left) > 0.005 * (len(right) + 1) + 1e-9:
            return False
    return True


@pytest.mark.parametrize("stem", ["vae-z2", "vae-z16", "kl-z2", "ae-z2"])
def test_each_kind_shows_what_it_has_and_the_numbers_add_up(stem):
    at = app(stem)
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    at = finished(at)
    assert at.title[0].value == "The ELBO of one image"
    assert probe.read(at, "elbo_image") == "mnist5k/val/1"
    infos = " ".join(i.value for i in at.info)
    if stem == "ae-z2":
        assert probe.read(at, "elbo_kind") == "ae"
        assert "autoencoder has no ELBO" in infos
        assert np.isfinite(probe.read(at, "elbo_log_lik_at_mean"))
        return
    terms, rows = probe.read(at, "elbo_terms"), probe.read(at, "elbo_identity")
    assert probe.read(at, "elbo_exact") is (stem != "vae-z16")
    assert adds_up(rows), rows
    assert rows[1][2][0][1] == terms["elbo"] and rows[1][1] == terms["log_px"]
    assert terms["gap"] >= -0.01 and terms["log_px"] >= terms["elbo"] - 0.01  # log p(x) ≥ ELBO
    markdown = " ".join(m.value for m in at.markdown)
    assert "Kingma & Welling 2013, eq. 3" in markdown and "Burda et al. 2016, eq. 8" in markdown
    assert "Cremer" in markdown and "digit" in markdown
    ratio = probe.read(at, "elbo_gradient_ratio")
    assert min(ratio) > 1, ratio  # the score function's variance is the larger
    if stem == "vae-z16":
        assert "needs a 2-D latent" in infos
    if stem == "kl-z2":
        assert "The posterior equals the prior" in infos
        assert abs(terms["kl_prior"]) < 0.05 and terms["gap"] < 0.1


def test_the_latent_maps_selection_links_to_its_elbo_and_the_link_opens_that_image():
    at = app(sel="12")  # a shared link's selection: one training digit
    links = [e for e in at.get("page_link") if e.proto.label == "See its ELBO"]
    assert len(links) == 1 and "image=train%3A12" in links[0].proto.query_string
    assert links[0].proto.page == "elbo"
    at.query_params["image"] = "train:12"  # what following the link does: the page, with its query
    at.switch_page(PAGE).run()
    assert not at.exception and probe.read(at, "elbo_image") == "mnist5k/train/12"
    at = finished(at)
    assert adds_up(probe.read(at, "elbo_identity"))
    assert at.query_params["image"] == ["train:12"] or at.query_params["image"] == "train:12"
    at.number_input(key="elbo_i_train@mnist5k").set_value(13).run()  # the user moves on: the URL follows
    assert probe.read(at, "elbo_image") == "mnist5k/train/13"


@pytest.mark.parametrize("bad", ["train:999999", "val:-1", "test:3", "nonsense", "train:1e9"])
def test_a_link_to_an_image_that_is_not_here_says_so(bad):
    at = app()
    at.query_params["image"] = bad
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("is not an image here" in w.value for w in at.warning), [w.value for w in at.warning]
    assert probe.read(at, "elbo_image") == "mnist5k/val/1"


def test_picking_another_image_never_waits_for_its_report(monkeypatch):
    """The report runs in the background: while it is held, the page run ends with a progress bar;
    a report nobody waits for any more is dropped before it starts."""
    gate = threading.Event()
    real = elbo._compute

    def held(job, *args):
        assert gate.wait(timeout=300)
        return real(job, *args)

    monkeypatch.setattr(elbo, "_compute", held)
    try:
        held_then_released(gate)
    finally:
        gate.set()  # never leave the worker held, whatever failed


def held_then_released(gate):
    elbo.clear()  # earlier tests' reports of these digits are cached
    at = app()
    at.switch_page(PAGE).run()  # validation digit 1: held
    assert not at.exception and progress_texts(at), "no progress bar while the report is computed"
    assert probe.read(at, "elbo_terms") is None
    box = at.number_input(key="elbo_i_val@mnist5k")
    box.set_value(2).run()  # queued behind digit 1
    queued = elbo._runner()[1][elbo.key(at.session_state["ctx"].ref, "mnist5k/val/2", elbo.SETTINGS)]
    at.number_input(key="elbo_i_val@mnist5k").set_value(3).run()  # nobody waits for digit 2 now
    assert queued.future.cancelled()
    assert "background" in progress_texts(at)[0]
    gate.set()
    at = finished(at)
    assert probe.read(at, "elbo_image") == "mnist5k/val/3" and adds_up(probe.read(at, "elbo_identity"))


def test_an_uploaded_digit_gets_its_report_and_a_bad_upload_one_line():
    from vae_core.data import load_dataset

    digit = load_dataset("mnist5k", "val").images[0, 0].numpy()
    paper = Image.fromarray((255 - digit * 255).astype(np.uint8)).resize((300, 300))
    at = app()
    at.switch_page(PAGE).run()
    at.button_group(key="elbo_source").set_value("upload").run()
    assert not at.exception and any("Upload an image" in i.value for i in at.info)
    at.file_uploader(key="elbo_upload").upload("seven.png", png_bytes(paper), "image/png").run()
    assert not at.exception and probe.read(at, "elbo_image").startswith("upload/")
    at = finished(at)
    assert adds_up(probe.read(at, "elbo_identity"))
    at.file_uploader(key="elbo_upload").upload("notes.png", b"not an image at all", "image/png").run()
    assert not at.exception and any("not an image" in e.value for e in at.error)


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def progress_texts(at) -> list[str]:
    stack, out = [at._tree], []
    while stack:
        node = stack.pop()
        if getattr(node, "type", "") == "progress":
            out.append(node.proto.text)
        stack.extend(getattr(node, "children", {}).values())
    return out
