"""Every page, through AppTest, with a user folder holding one hostile ONNX model folder of every
class the engine refuses (tests/engine/test_onnx_hostile.py: STATIC, refused by the registry
without running anything, and RUNTIME, refused by the probe at load): no exception anywhere,
each listed unusable with its reason, or (what only running shows) refused with one line when
picked. Live map on and off."""

import sys

import pytest
from streamlit.testing.v1 import AppTest
from support import ROOT, option_of

from ui.frame.pages import VIEW_FILES

sys.path.insert(0, str(ROOT / "tests" / "engine"))  # the hostile classes, defined once by the engine's tests
from onnx_graphs import write_folder  # noqa: E402
from test_onnx_hostile import RUNTIME, STATIC  # noqa: E402


def folder_name(case: str) -> str:
    return "bad-" + case.replace(" ", "-").replace(",", "")


@pytest.fixture(scope="module")
def hostile_onnx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_onnx")
    for case, (bend, *_) in {**STATIC, **RUNTIME}.items():
        bend(write_folder(folder / folder_name(case)))
    (folder / "lone.onnx").write_bytes(b"\x08\x07")  # a graph without its folder
    return folder


def listed_unusable(at) -> str:
    return "\n".join(t.value for t in at.sidebar.text)


@pytest.mark.parametrize("live", ["0", "1"])
def test_every_page_works_with_a_folder_of_hostile_onnx_models(hostile_onnx, monkeypatch, tmp_path, live):
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(hostile_onnx))
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", live)
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=300)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    listed, options = listed_unusable(at), at.sidebar.selectbox(key="model").options
    for case, (_, words) in STATIC.items():
        name = folder_name(case)
        line = next((ln for ln in listed.splitlines() if ln.startswith(name)), "")
        assert words in line, (case, line or "not listed")
        assert not any(f"— {name} ·" in o for o in options), case
    assert "lone.onnx" in listed
    for page in VIEW_FILES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
    for case, (_, words) in RUNTIME.items():  # only running shows these: refused when picked, in one line
        box = at.sidebar.selectbox(key="model")
        box.select_index(option_of(box.options, folder_name(case))).run()
        for page in (VIEW_FILES[0], "views/traverse.py"):
            at.switch_page(page).run()
            assert not at.exception, (case, page, [e.message for e in at.exception])
            warned = [w.value for w in at.warning]
            assert any("cannot be used" in w and words in w for w in warned), (case, page, warned)
