"""ui.livemap's Python side: assets, their formats (what the browser reads back), overlays, the
selection codec, the lift, the ready/fallback decision and the demo app under AppTest."""

import base64
import gzip
import json

import numpy as np
import pytest
import torch
from support import ROOT

import ui.livemap as lm
from ui.livemap import assets, component, publish
from vae_core.analysis import projection


@pytest.fixture
def store(tmp_path):
    return lm.AssetStore(tmp_path / "cache")


def read(store, ref):
    raw = (store.root / ref.file).read_bytes()
    raw = gzip.decompress(raw) if ref.gz else raw
    return np.frombuffer(raw, dtype=np.dtype(ref.dtype).newbyteorder("<")).reshape(ref.shape)


def test_store_is_content_addressed_idempotent_and_leaves_no_temporary_files(store):
    a = store.put_array(np.arange(10, dtype=np.float32), "float32")
    b = store.put_array(np.arange(10, dtype=np.float32), "float32")
    c = store.put_array(np.arange(11, dtype=np.float32), "float32")
    assert a == b and a.file != c.file
    assert np.array_equal(read(store, a), np.arange(10))
    names = sorted(p.name for p in store.root.iterdir())
    assert names == sorted([assets.MARKER, a.file, c.file])


def test_store_refuses_a_folder_with_other_files_the_code_folder_and_a_file_path(tmp_path):
    busy = tmp_path / "home"
    busy.mkdir()
    (busy / "notes.txt").write_text("private")
    with pytest.raises(lm.AssetError, match="already holds other files"):
        lm.AssetStore(busy)
    for shipped in (ROOT / "ui" / "livemap" / "frontend", ROOT / "checkpoints" / "livemap", ROOT, ROOT.parent):
        with pytest.raises(lm.AssetError, match="shipped files"):
            lm.AssetStore(shipped)
    assert not (ROOT / "checkpoints" / "livemap").exists()
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(lm.AssetError, match="not writable"):
        lm.AssetStore(tmp_path / "a_file" / "cache")
    lm.AssetStore(tmp_path / "fresh")
    lm.AssetStore(tmp_path / "fresh")  # our own folder: reopening it is fine


def test_points_round_trip_and_bad_points_get_one_clear_line(store):
    xy = np.random.default_rng(0).normal(size=(50, 2))
    labels = np.arange(50) % 10
    pts = lm.publish_points(store, xy, labels, range(10))
    assert pts.n == 50 and pts.classes == tuple(str(i) for i in range(10))
    assert np.array_equal(read(store, pts.xy), xy.astype(np.float32))
    assert np.array_equal(read(store, pts.labels), labels)
    bad = xy.copy()
    bad[3, 1] = np.nan
    with pytest.raises(lm.AssetError, match="NaN or infinite"):
        lm.publish_points(store, bad, labels, range(10))
    with pytest.raises(lm.AssetError, match=r"shape \[N, 2\]"):
        lm.publish_points(store, xy[:, :1], labels, range(10))
    with pytest.raises(lm.AssetError, match="Labels must lie in 0..9"):
        lm.publish_points(store, xy, labels + 1, range(10))
    with pytest.raises(lm.AssetError, match="one per point"):
        lm.publish_points(store, xy, labels[:-1], range(10))


def test_images_are_exact_bytes_in_gzipped_chunks(store):
    u8 = np.random.default_rng(1).integers(0, 256, size=(70, 8, 8), dtype=np.uint8)
    x = torch.from_numpy(u8.astype(np.float32) / 255).unsqueeze(1)  # the datasets' x / 255 floats
    imgs = lm.publish_images(store, x, chunk=32)
    assert (imgs.n, imgs.height, imgs.width, imgs.chunk, imgs.channels) == (70, 8, 8, 32, 1)
    assert imgs.route is None and imgs.arg()["route"] is None  # no image route in this server: chunks
    chunks = [gzip.decompress((store.root / f"{imgs.prefix}-{k}.u8.gz").read_bytes()) for k in range(3)]
    back = np.frombuffer(b"".join(chunks), np.uint8).reshape(70, 8, 8)
    assert np.array_equal(back, u8)
    assert not (store.root / f"{imgs.prefix}-3.u8.gz").exists()
    with pytest.raises(lm.AssetError, match=r"values in \[0, 1\]"):
        lm.publish_images(store, x * 2)
    with pytest.raises(lm.AssetError, match="shape"):
        lm.publish_images(store, np.zeros((4, 8)))


def test_colour_images_travel_planar_with_their_channel_count(store):
    u8 = np.random.default_rng(2).integers(0, 256, size=(5, 3, 4, 4), dtype=np.uint8)
    imgs = lm.publish_images(store, u8, chunk=8)
    assert (imgs.channels, imgs.route) == (3, None) and imgs.arg()["c"] == 3
    back = np.frombuffer(gzip.decompress((store.root / f"{imgs.prefix}-0.u8.gz").read_bytes()), np.uint8)
    assert np.array_equal(back.reshape(5, 3, 4, 4), u8)


def numpy_decode(store, dec, z):
    """The browser's algorithm, in numpy: walk the flat weights as the JS does."""
    flat = read(store, dec.weights).astype(np.float64)
    h, off = np.asarray(z, np.float64), 0
    for k, (nin, nout) in enumerate(dec.layers):
        w = flat[off : off + nin * nout].reshape(nout, nin)
        off += nin * nout
        b = flat[off : off + nout]
        off += nout
        h = h @ w.T + b
        if k < len(dec.layers) - 1:
            h = np.maximum(h, 0) if dec.activation == "relu" else np.where(h > 0, h, np.expm1(h))
    assert off == flat.size
    return 1 / (1 + np.exp(-h))


@pytest.mark.parametrize("activation", ["elu", "relu"])
def test_decoder_weights_layout_matches_torch_decode(store, tiny_model, activation):
    model = tiny_model("vae", latent_dim=3, hidden=(16, 12), activation=activation)
    dec = lm.publish_decoder(store, model)
    assert dec.layers == ((3, 12), (12, 16), (16, 64)) and dec.activation == activation
    assert dec.weights.dtype == "float32"  # random float32 weights are not exact in float16
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(2))
    want = model.decode(z).reshape(5, -1).detach().numpy()
    assert np.abs(numpy_decode(store, dec, z.numpy()) - want).max() < 1e-5


def test_decoder_travels_as_float16_when_that_is_exact(store, tiny_model):
    model = tiny_model("ae", latent_dim=2)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())  # like the shipped checkpoints, stored in float16
    dec = lm.publish_decoder(store, model)
    assert dec.weights.dtype == "float16"
    z = np.array([[0.3, -1.2]])
    want = model.decode(torch.tensor(z).float()).reshape(1, -1).detach().numpy()
    assert np.abs(numpy_decode(store, dec, z) - want).max() < 1e-5


def test_a_decoder_the_browser_cannot_run_is_refused(store, tiny_model):
    model = tiny_model("vae")
    model.decoder.insert(1, torch.nn.Tanh())
    with pytest.raises(lm.AssetError, match="Linear, ELU and ReLU layers only, not Tanh"):
        lm.publish_decoder(store, model)


def test_lift_inverts_a_pca_map_on_its_plane_and_is_none_for_tsne():
    codes = np.random.default_rng(3).normal(size=(200, 6)).astype(np.float32)
    proj = projection.fit_projection(codes, "pca")
    lift = lm.Lift.from_projection(proj)
    xy = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
    assert np.allclose(proj.transform(lift(xy)), xy, atol=1e-5)
    native = lm.Lift.from_projection(projection.fit_projection(codes, "native", native_dims=(2, 4)))
    others = np.delete(native(xy), [2, 4], 1)  # the dimensions not shown stay at the codes' mean
    assert np.allclose(native(xy)[:, [2, 4]], xy) and np.allclose(others, np.delete(codes.mean(0), [2, 4])[None])
    assert lm.Lift.from_projection(projection.Projection("tsne", {}, codes[:, :2], codes)) is None
    with pytest.raises(lm.AssetError, match=r"components \[2, D\]"):
        lm.Lift(np.zeros(3), np.zeros((2, 4)))


@pytest.mark.parametrize("size", [0, 5, 2000, 2001, 9000])
def test_selection_codec_round_trips_lists_and_bitmasks(size):
    n = 10_000
    idx = np.sort(np.random.default_rng(size).choice(n, size, replace=False))
    enc = lm.encode_selection(idx, n)
    assert ("list" in enc) == (size <= 2000)
    assert lm.decode_selection(json.loads(json.dumps(enc)), n) == idx.tolist()
    if size > 2000:
        assert len(json.dumps(enc)) < 2000  # a 10k-point bitmask is ~1.7 kB, not ~50 kB of indices


def test_selection_codec_rejects_bad_input_quietly_and_bad_indices_loudly():
    assert lm.decode_selection(None, 10) == [] and lm.decode_selection({"bits": "%%%", "n": 10}, 10) == []
    assert lm.decode_selection({"list": [3, 7, 7]}, n=10) == [3, 7]
    assert lm.decode_selection({"list": [3, -1, 7, 99]}, n=10) == []  # one forged index: nothing selected
    with pytest.raises(lm.AssetError, match="0..9"):
        lm.encode_selection([10], 10)


FORGED = [
    {"bits": "AAAA", "n": None},
    {"bits": "AAAA", "n": "1000"},
    {"bits": "AAAA", "n": float("inf")},
    {"bits": "AAAA", "n": True},
    {"bits": "AAAA", "n": 10**30},
    {"bits": None, "n": 1000},
    {"bits": ["AAAA"], "n": 1000},
    {"bits": "A" * (2 * 2**20), "n": 1000},  # a bit string megabytes long, for a map of 1,000 points
    {"bits": "A" * (2 * 2**20), "n": 2**24},  # ... claiming a bigger map than this one
    {"list": [float("inf")]},
    {"list": [float("nan"), 1]},
    {"list": [1.5]},
    {"list": [True]},
    {"list": ["3"]},
    {"list": [None]},
    {"list": [[1, 2]]},
    {"list": list(range(3000))},
    {"list": {"0": 1}},
    {"list": None},
    {},
    [],
    "bits",
]


@pytest.mark.parametrize("forged", FORGED, ids=range(len(FORGED)))
def test_a_forged_selection_is_nothing_selected_at_bounded_cost(forged):
    """Issue 18.9: one forged 2 MiB selection used to cost the server ~800 MB."""
    import tracemalloc

    tracemalloc.start()
    try:
        assert lm.decode_selection(forged, 1000) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64_000  # the map's size bounds the work: 1,000 points are 125 bytes of bits


def test_a_selection_above_the_limit_or_of_another_map_size_is_nothing_selected():
    n = 300_000
    everything = lm.encode_selection(np.arange(n), n)
    assert lm.decode_selection(everything, n) == []  # 300,000 > SELECTION_MAX
    half = lm.encode_selection(np.arange(0, n, 3), n)
    assert len(lm.decode_selection(half, n)) == 100_000
    assert lm.decode_selection(half, n - 8) == []  # a bitmask of another map


def test_slider_and_grid_values_from_the_browser_are_checked():
    from ui.livemap import codec

    assert codec.finite_code([0.5, 1], 2).tolist() == [0.5, 1.0]
    for bad in ([float("inf"), 0], [float("nan"), 0], ["1", 0], [None, 0], [True, 0], [0.0], "00", [1e300, 0]):
        assert codec.finite_code(bad, 2) is None
    assert codec.cell([1, 2], 3, 3) == (1, 2)
    for bad in ([3, 0], [-1, 0], [1.0, 2], [float("inf"), 0], [True, 1], [1], None, "1,2"):
        assert codec.cell(bad, 3, 3) is None
    assert codec.trigger("lasso") == "lasso" and codec.trigger("<script>") is None and codec.trigger(7) is None


def test_overlays_serialise_small_and_check_their_input():
    ov = [
        lm.Polyline(np.zeros((10, 2))),
        lm.Markers(np.zeros((1, 2)), labels=["your digit"]),
        lm.Points(np.zeros((400, 2))),
        lm.Ellipses(np.zeros((200, 2)), np.tile(np.eye(2), (200, 1, 1))),
        lm.Circle(2.0),
        lm.Raster(np.random.default_rng(0).random((64, 64)), (-3, 3, -3, 3)),
    ]
    args = [o.arg() for o in ov]
    assert [a["type"] for a in args] == ["polyline", "markers", "markers", "ellipses", "circle", "raster"]
    assert len(base64.b64decode(args[-1]["data"])) == 64 * 64
    assert len(json.dumps(args)) < 40_000
    with pytest.raises(lm.AssetError, match="symmetric"):
        lm.Ellipses(np.zeros((1, 2)), np.array([[[1, 0.5], [0, 1]]])).arg()
    with pytest.raises(lm.AssetError, match="2 labels for 1 markers"):
        lm.Markers(np.zeros((1, 2)), labels=["a", "b"]).arg()
    with pytest.raises(lm.AssetError, match="at most 5,000"):
        lm.Polyline(np.zeros((5001, 2))).arg()
    with pytest.raises(lm.AssetError, match="extent"):
        lm.Raster(np.ones((2, 2)), (1, 0, 0, 1)).arg()


def test_values_and_film_are_checked(store):
    v = lm.publish_values(store, [-1.0, 0.5, np.nan], "delta", "rdbu")
    assert (v.vmin, v.vmax) == (-1.0, 1.0)  # diverging: centred on 0
    with pytest.raises(lm.AssetError, match="colour scale"):
        lm.publish_values(store, [1.0], "x", "rainbow")
    film = lm.publish_film(store, np.zeros((3, 5, 2)), [1, 5, 10], {"loss": [3.0, 2.0, None]})
    assert film.frames.dtype == "float16" and film.frames.shape == (3, 5, 2) and film.losses["loss"][2] is None
    with pytest.raises(lm.AssetError, match="one epoch number per frame"):
        lm.publish_film(store, np.zeros((3, 5, 2)), [1, 2])
    with pytest.raises(lm.AssetError, match="has 2 values for 3 frames"):
        lm.publish_film(store, np.zeros((3, 5, 2)), losses={"kl": [1, 2]})


def test_ready_and_fallback_decisions():
    meta = {"waiting_since": None, "fallback": ""}
    assert component.decide(meta, None, now=100.0, timeout_s=20) == (False, "")  # starts the wait
    assert component.decide(meta, None, now=110.0, timeout_s=20) == (False, "")
    assert component.decide(meta, {"ready": True}, now=111.0, timeout_s=20) == (True, "")
    assert component.decide(meta, None, now=500.0, timeout_s=20) == (False, "")  # a remount waits anew
    ready, reason = component.decide(meta, None, now=521.0, timeout_s=20)
    assert not ready and "did not load within 20 s" in reason
    meta = {"waiting_since": None, "fallback": ""}
    ready, reason = component.decide(meta, {"ready": False, "unsupported": "it lacks canvas 2D"}, 0.0, 20)
    assert not ready and reason.endswith("it lacks canvas 2D.") and meta["fallback"] == reason


def test_selection_commands_follow_the_page_not_its_lagging_echo():
    meta = {}
    assert component._selection_command(meta, None, [3], 10) == [3]  # a fresh mount restores
    meta["returned"] = [3]
    assert component._selection_command(meta, {"ready": True}, [3], 10) is None  # the page echoes
    # the user lassoes [5, 6]: on that rerun the page still passes [3], the last event's selection
    assert component._selection_command(meta, {"selection": {"list": [5, 6]}}, [3], 10) is None
    meta["returned"] = [5, 6]
    assert component._selection_command(meta, {"selection": {"list": [5, 6]}}, [5, 6], 10) is None
    assert component._selection_command(meta, {"ready": True}, [9, 9], 10) == [9]  # the page jumps
    assert component._selection_command(meta, {"ready": True}, None, 10) is None
    with pytest.raises(lm.AssetError, match="0..9"):
        component._selection_command({}, None, [10], 10)


def test_map_arguments_must_agree_with_each_other(store):
    pts = lm.publish_points(store, np.zeros((4, 2)), [0, 1, 0, 1], ["a", "b"])
    imgs = lm.publish_images(store, np.zeros((5, 8, 8), np.uint8))
    with pytest.raises(lm.AssetError, match="4 points but 5 images"):
        lm.latent_map(pts, store, key="m", images=imgs)
    with pytest.raises(lm.AssetError, match="outside the map's 0..3"):
        lm.latent_map(pts, store, key="m", highlight=4)
    with pytest.raises(lm.AssetError, match="x0 < x1"):
        lm.latent_map(pts, store, key="m", bounds=(1, 0, 0, 1))


@pytest.mark.parametrize("demo", ["map", "pca", "sliders", "grid", "film"])
def test_demo_app_runs_under_apptest(demo, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP_CACHE", str(tmp_path / "cache"))
    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "livemap_demo.py"), default_timeout=120)
    at.query_params["demo"] = demo
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(t.value.startswith(("ready=False", "z=", "cell=")) for t in at.text)
    assert (tmp_path / "cache" / assets.MARKER).exists()


def test_published_sizes_keep_reruns_small(store):
    """What a map's rerun carries: asset names and small state, not data."""
    pts = lm.publish_points(store, np.random.default_rng(0).normal(size=(60_000, 2)), np.zeros(60_000, int), ["a"])
    sel = lm.encode_selection(np.arange(0, 60_000, 2), 60_000)
    args = {"points": pts.arg(), "selection": sel}
    assert len(json.dumps(args)) < 12_000
    assert publish.IMAGE_CHUNK * 28 * 28 < 300_000  # one hover chunk, before gzip


def test_a_component_the_page_unmounted_gets_a_new_wait_when_it_comes_back():
    """The film's map lives in an expander that runs only when open: opened, closed before its
    handshake, and opened again a minute later, it must be given its own wait, not fall back on
    the first one's clock."""
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st

        from ui.livemap import component

        meta = component._state("film")
        if meta["waiting_since"] is None:
            component.decide(meta, None, now=100.0, timeout_s=20)  # mounted, no handshake yet
        if st.session_state.get("closed"):
            component.unmounted("film")  # the expander was closed
        again = component._state("film")
        st.write(repr(component.decide(again, None, now=160.0, timeout_s=20)))  # opened again later

    at = AppTest.from_function(script).run()
    assert "did not load within 20 s" in at.markdown[0].value  # the old wait, had nothing ended it
    at = AppTest.from_function(script)
    at.session_state["closed"] = True
    at.run()
    assert at.markdown[0].value == repr((False, ""))
