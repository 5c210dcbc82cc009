"""ui.livemap's decoders of kind "onnx" on the Python side: what is published (the graph's own
bytes, content-addressed, with the names and the output kind the browser needs), what is refused
with one line, and how a browser that cannot run a decoder is remembered for the session."""

import re

import pytest
from streamlit.testing.v1 import AppTest
from support import ROOT

import ui.livemap as lm
import vae_core
from ui.livemap import component, publish


@pytest.fixture
def store(tmp_path):
    return lm.AssetStore(tmp_path / "cache")


def test_an_onnx_model_publishes_its_own_graph(store):
    model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / "onnx" / "vae-z16-onnx")
    dec = lm.publish_decoder(store, model)
    assert dec.kind == "onnx" and dec.latent_dim == 16 and dec.image_shape == (1, 28, 28)
    assert (store.root / dec.graph.file).read_bytes() == model.decoder_graph
    assert dec.graph.file.endswith(".onnx") and dec.graph.shape == (len(model.decoder_graph),)
    assert (dec.input, dec.output, dec.output_kind) == ("z", "logits", "logits")
    assert lm.publish_decoder(store, model) == dec  # content-addressed: the same name again


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"output_kind": "pixels"}, "logits or probs"),
        ({"image_shape": (4, 8, 8)}, "C = 1 (grey) or 3 (RGB)"),
        ({"image_shape": (8, 8)}, "C = 1 (grey) or 3 (RGB)"),
        ({"input": ""}, "input name"),
        ({"output": "a\nb"}, "output name"),
        ({"latent_dim": 0}, "latent size"),
        ({"graph": b""}, "graph's bytes"),
    ],
)
def test_what_the_browser_cannot_be_given_is_refused_in_one_line(store, kwargs, words):
    args = {"graph": b"\x08\x07graph", "latent_dim": 2, "image_shape": (1, 8, 8)} | kwargs
    with pytest.raises(lm.AssetError, match=re.escape(words)):
        lm.publish_onnx_decoder(store, args.pop("graph"), args.pop("latent_dim"), args.pop("image_shape"), **args)


def test_a_graph_too_large_for_a_browser_is_not_published(store, monkeypatch):
    monkeypatch.setattr(publish, "MAX_BROWSER_GRAPH_BYTES", 100)
    with pytest.raises(lm.AssetError, match="is 0.0 MB; graphs over 0 MB are not sent to the browser"):
        lm.publish_onnx_decoder(store, b"x" * 101, 2, (1, 8, 8))
    assert [p.name for p in store.root.iterdir() if not p.name.startswith(".")] == []  # nothing written


def test_a_decoder_the_browser_cannot_start_makes_sliders_and_grid_fall_back():
    meta = {"waiting_since": None, "fallback": ""}
    value = {"ready": False, "decoder_error": "onnxruntime-web could not start (no WebAssembly)"}
    ready, reason = component.decide(meta, value, 0.0, 20)
    assert not ready and reason.startswith("This browser cannot run the decoder (onnxruntime-web could not start")
    meta = {"waiting_since": None, "fallback": ""}
    assert component.decide(meta, {"ready": True, "decoder_error": "x"}, 0.0, 20) == (True, "")  # a map goes on


FAILURES = """
import numpy as np
import streamlit as st
import ui.livemap as lm
from ui.livemap import component
store = lm.AssetStore(st.session_state.setdefault("cache", CACHE))
a = lm.publish_onnx_decoder(store, b"graph a", 2, (1, 8, 8))
b = lm.publish_onnx_decoder(store, b"graph b", 2, (1, 8, 8))
step = st.session_state.setdefault("step", 0)
if step == 0:  # the browser says graph a cannot load; nothing about b
    said = {"decoder_error": "bad op", "decoder_scope": "graph", "decoder_id": a.graph.file}
    component._record_decoder_error(said, a)
    stale = {"decoder_error": "old", "decoder_scope": "graph", "decoder_id": "other.onnx"}
    component._record_decoder_error(stale, b)  # about a decoder this call does not send: ignored
    st.session_state["after_graph"] = [lm.decoder_unavailable(a), lm.decoder_unavailable(b)]
else:  # then that the runtime itself cannot start: every ONNX decoder is off for this session
    component._record_decoder_error({"decoder_error": "no WebAssembly", "decoder_scope": "runtime"}, b)
    st.session_state["after_runtime"] = [lm.decoder_unavailable(a), lm.decoder_unavailable(b)]
    event = lm.slider_decoder(b, store, np.zeros(2), key="s")  # not mounted again: falls back at once
    st.session_state["event"] = [event.fallback, event.reason]
st.session_state["step"] = step + 1
"""


def test_the_session_remembers_which_decoders_its_browser_cannot_run(tmp_path):
    at = AppTest.from_string(FAILURES.replace("CACHE", repr(str(tmp_path / "cache"))), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["after_graph"] == ["bad op", ""]
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["after_runtime"] == ["no WebAssembly", "no WebAssembly"]
    fallback, reason = at.session_state["event"]
    assert fallback and "no WebAssembly" in reason
