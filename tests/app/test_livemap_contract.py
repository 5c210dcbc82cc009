"""The component's argument contract (ui/livemap/frontend/core/contract.js) names exactly the keys
the Python side builds, mode by mode and asset by asset, and those the JavaScript reads."""

import re

import numpy as np
import pytest
from support import ROOT

import ui.livemap as lm
from ui.livemap import component

FRONTEND = ROOT / "ui" / "livemap" / "frontend"


def typedefs() -> dict[str, set[str]]:
    """{typedef name: its @property names} from contract.js."""
    text = (FRONTEND / "core" / "contract.js").read_text()
    out = {}
    for block in re.findall(r"/\*\*(.*?)\*/", text, flags=re.S):
        name = re.search(r"@typedef\s+\{[^}]*\}\s+(\w+)", block)
        if name:
            props = re.findall(r"@property\s+\{.*?\}\s+(\w+)", block)
            out[name.group(1)] = set(props)
    return out


@pytest.fixture(scope="module")
def sent(tmp_path_factory, tiny_model_module):
    """What each mode's call passes to the frontend, captured in place of the Streamlit mount."""
    store = lm.AssetStore(tmp_path_factory.mktemp("assets"))
    model = tiny_model_module
    points = lm.publish_points(store, np.zeros((3, 2)), np.array([0, 1, 0]), ("a", "b"))
    images = lm.publish_images(store, np.zeros((3, 8, 8), np.uint8))
    decoder = lm.publish_decoder(store, model)
    onnx = lm.publish_onnx_decoder(store, b"an ONNX graph's bytes", 3, (3, 8, 8))
    lift = lm.Lift(np.zeros(3, np.float32), np.eye(2, 3, dtype=np.float32))
    values = lm.publish_values(store, np.arange(3.0), "v")
    film = lm.publish_film(store, np.zeros((2, 3, 2)), [0, 1], {"loss": [1.0, 0.5]})
    calls = {}

    def mount(mode, key, args, timeout_s):  # recorded by key: map, sliders, grid, sliders-onnx, grid-onnx
        calls[key] = {"mode": mode, "ready_known": False, **args}
        return None, False, ""

    real = component._mount
    component._mount = mount
    try:
        component.latent_map(
            points, store, key="map", images=images, decoder=decoder, lift=lift, values=values, film=film,
            selection=[1], visible_classes=[0], highlight=0, overlays=[lm.Circle(2.0)], bounds=(0, 1, 0, 1),
        )  # fmt: skip
        for suffix, dec in (("", decoder), ("-onnx", onnx)):
            component.slider_decoder(dec, store, np.zeros(3), key=f"sliders{suffix}")
            component.grid_decoder(dec, store, np.zeros(3), (0, 1), [0.0, 1.0], key=f"grid{suffix}")
    finally:
        component._mount = real
    assets = {"points": points, "images": images, "decoder": decoder, "onnx": onnx, "lift": lift}
    return calls, assets | {"values": values, "film": film}


@pytest.fixture(scope="module")
def tiny_model_module():
    import torch

    from vae_core.model.config import ModelConfig
    from vae_core.model.mlp import VAE

    cfg = ModelConfig(latent_dim=3, hidden=(16,), image_shape=(1, 8, 8))
    return VAE(cfg, generator=torch.Generator().manual_seed(0))


def test_every_mode_sends_exactly_what_the_contract_names(sent):
    calls, _ = sent
    defs = typedefs()
    common = defs["CommonArgs"]
    modes = (("map", "MapArgs"), ("sliders", "SliderArgs"), ("grid", "GridArgs"))
    for mode, name in (*modes, ("sliders-onnx", "SliderArgs"), ("grid-onnx", "GridArgs")):
        assert set(calls[mode]) == defs[name] | common, (mode, set(calls[mode]) ^ (defs[name] | common))
    assert calls["sliders"]["decoder"]["kind"] == "mlp" and calls["sliders-onnx"]["decoder"]["kind"] == "onnx"


def test_every_asset_and_overlay_spec_matches_its_typedef(sent):
    _, assets = sent
    defs = typedefs()
    names = {"points": "PointsArg", "images": "ImagesArg", "decoder": "MlpDecoderArg", "onnx": "OnnxDecoderArg"}
    names |= {"lift": "LiftArg"}
    names |= {"values": "ValuesArg", "film": "FilmArg"}
    for key, typedef in names.items():
        assert set(assets[key].arg()) == defs[typedef], key
    assert set(assets["points"].xy.arg()) == defs["ArrayRef"]
    overlays = {
        "PolylineOverlay": lm.Polyline(np.zeros((2, 2))),
        "MarkersOverlay": lm.Markers(np.zeros((2, 2))),
        "EllipsesOverlay": lm.Ellipses(np.zeros((1, 2)), np.eye(2)[None]),
        "CircleOverlay": lm.Circle(2.0),
        "RasterOverlay": lm.Raster(np.zeros((3, 3)), (0, 1, 0, 1)),
    }
    for typedef, overlay in overlays.items():
        assert set(overlay.arg()) == defs[typedef], typedef


def test_the_javascript_reads_only_arguments_the_contract_names():
    defs = typedefs()
    known = defs["MapArgs"] | defs["SliderArgs"] | defs["GridArgs"] | defs["CommonArgs"] | defs["WireArgs"]
    read = set()
    for path in FRONTEND.rglob("*.js"):
        read |= set(re.findall(r"\bargs\.(\w+)", path.read_text()))
    assert read and read <= known, read - known


def test_the_python_side_reads_only_values_the_contract_names():
    """What component.py and decoder_failures.py read from the browser's value (value.get("...")) is
    in ComponentValue."""
    text = "".join((ROOT / "ui" / "livemap" / f).read_text() for f in ("component.py", "decoder_failures.py"))
    read = set(re.findall(r"value\.get\(\"(\w+)\"", text))
    assert {"ready", "decoder_error", "decoder_scope", "decoder_id"} <= read
    assert read <= typedefs()["ComponentValue"], read - typedefs()["ComponentValue"]


def test_every_call_travels_as_one_json_spec_that_reads_back_the_same(sent):
    """component._spec carries each mode's arguments as one JSON string (no dict argument for
    Streamlit to check for dataframes): exact JSON, no NaN, read back as sent."""
    import json

    calls, _ = sent
    for key, call in calls.items():
        args = {k: v for k, v in call.items() if k not in ("mode", "ready_known")}
        assert json.loads(component._spec(args)) == json.loads(json.dumps(args)), key


def test_index_html_preloads_exactly_the_map_modules_main_js_will_import():
    """index.html's modulepreload list is the static import graph of main.js and map/map.js (the
    map mode's widget, imported on the first render): a module added or dropped shows here."""
    import posixpath

    def imports(name: str) -> list[str]:
        text = (FRONTEND / name).read_text()
        found = re.findall(r'^\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|^\s*import\s+"(\.[^"]+)"', text, re.M)
        return [posixpath.normpath(posixpath.join(posixpath.dirname(name), a or b)) for a, b in found]

    seen, todo = [], ["main.js", "map/map.js"]
    while todo:
        name = todo.pop(0)
        if name not in seen:
            seen.append(name)
            todo += imports(name)
    assert '"./map/map.js"' in (FRONTEND / "main.js").read_text()  # the map mode's widget
    html = (FRONTEND / "index.html").read_text()
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
    assert sorted(preloaded) == sorted(set(seen) - {"main.js"})
    assert all((FRONTEND / m).is_file() for m in preloaded)
