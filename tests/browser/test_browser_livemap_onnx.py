"""Decoders of kind "onnx" in the component's demo app (`?demo=conv`), offline: a 64x64 RGB conv
decoder (the benchmark's, bench/conv_decoder.py, exported from torch like our models' decoders)
runs in onnxruntime-web like onnxruntime runs it on the server — a batch of codes, and the colour
image painted under the pointer — with nothing fetched beyond 127.0.0.1."""

import urllib.parse
import urllib.request

import numpy as np
from livemap_support import ARTIFACTS, WAIT, open_demo

from vae_core.model.onnx_vae import session

READY = "[data-testid=lm-decode][data-ready='1'][data-kind='onnx']"
# The panel's canvas as RGB at the centre of each image pixel: [H*W, 3].
RGB = """() => { const c = document.querySelector('[data-testid=lm-decode] canvas'), s = +c.dataset.scale;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, out = [];
  for (let r = 0; r < c.height / s; r++) for (let q = 0; q < c.width / s; q++) {
    const k = ((r * s + (s >> 1)) * c.width + q * s + (s >> 1)) * 4; out.push([d[k], d[k + 1], d[k + 2]]); }
  return out; }"""


def served_graph(frame) -> bytes:
    """The graph's bytes as the browser fetched them (the asset's URL, relative to the iframe)."""
    rel = frame.evaluate("() => livemap.widget.args.assets + livemap.widget.args.decoder.graph.file")
    with urllib.request.urlopen(urllib.parse.urljoin(frame.url, rel)) as r:
        return r.read()


def server_decode(graph: bytes, z: np.ndarray) -> np.ndarray:
    """What onnxruntime on the server gives, through the sigmoid (the graph ends at logits)."""
    (logits,) = session(graph).run(["logits"], {"z": np.asarray(z, np.float32)})
    return 1 / (1 + np.exp(-logits.astype(np.float64)))


def test_a_conv_decoder_runs_in_the_browser_like_onnxruntime_on_the_server(offline, server):
    page, frame = open_demo(offline, server, "conv")
    frame.wait_for_selector(READY, timeout=WAIT)
    graph = served_graph(frame)
    spec = frame.evaluate("() => livemap.widget.args.decoder")
    assert spec["kind"] == "onnx" and spec["image_shape"] == [3, 64, 64] and len(graph) == spec["graph"]["shape"][0]
    z = np.random.default_rng(0).normal(size=(8, spec["latent_dim"])).astype(np.float32) * 1.5
    got = frame.evaluate(
        "async ([zs, n]) => Array.from(await livemap.widget.decoder.decodeMany(Float32Array.from(zs), n))",
        [z.ravel().tolist(), 8],
    )
    want = server_decode(graph, z).reshape(8, -1)
    assert np.abs(np.array(got).reshape(8, -1) - want).max() < 1e-4

    box = page.locator("iframe").first.bounding_box()
    plot = frame.evaluate("() => { const r = livemap.widget.plot.getBoundingClientRect(); return [r.left, r.top]; }")
    done = frame.evaluate("() => livemap.widget.metrics.decoded.length")
    page.mouse.move(box["x"] + plot[0] + 180, box["y"] + plot[1] + 150)
    frame.wait_for_function("(n) => livemap.widget.metrics.decoded.length > n", arg=done, timeout=WAIT)
    x = float(frame.get_attribute("[data-testid=lm-decode]", "data-x"))
    y = float(frame.get_attribute("[data-testid=lm-decode]", "data-y"))
    shown = np.array(frame.evaluate(RGB))  # [64*64, 3]
    code = np.zeros((1, spec["latent_dim"]), np.float32)
    code[0, :2] = x, y  # the demo's lift: the first two dimensions
    want = np.rint(server_decode(graph, code)[0].reshape(3, -1).T * 255)
    assert np.abs(shown - want).max() <= 1, "the painted colour image differs from the server's decode"
    assert want.std(0).min() > 10 and want.mean(0)[0] - want.mean(0)[2] > 30, (
        "the channels must differ to test their order"
    )
    page.screenshot(path=str(ARTIFACTS / "onnx-conv-rgb.png"))
    assert not offline.blocked, offline.blocked  # onnxruntime-web and its WebAssembly come from the app
    page.close()
