"""Demo of ui.livemap for the browser tests and the benchmark: `streamlit run tests/apps/livemap_demo.py`.

Pick a demo with ?demo=NAME: map (vae-z2, native, mnist5k), pca (vae-z16, PCA), sliders, grid,
big (60,000 Fashion-MNIST images through vae-z16, PCA) and film (a synthetic training film);
decoders of kind "onnx" (onnxruntime-web): onnx (vae-z2-onnx's native map), onnx-sliders
(vae-z16-onnx), and conv, conv-sliders, conv-grid (a 64x64 RGB conv decoder, bench/conv_decoder.py,
over 4,500 random points);
&quiet=1 prints the selection's size instead of its indices (the benchmark counts bytes);
&renderer=webgl|canvas draws the points with that renderer (default auto: map/points.js).
Assets go to $VAE_EXPLORER_LIVEMAP_CACHE (or a folder in the system's temporary directory).
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402
import torch  # noqa: E402

import ui.livemap as lm  # noqa: E402
import vae_core  # noqa: E402
from ui.livemap import cached  # noqa: E402
from ui.render import figures  # noqa: E402
from vae_core.analysis import (
    latent,  # noqa: E402
    projection,  # noqa: E402
)
from vae_core.model.estimators import encode_all  # noqa: E402

st.set_page_config(page_title="livemap demo", layout="wide")
DEMO = st.query_params.get("demo", "map")
CACHE = str(cached.default_cache_dir())
store = cached.store(CACHE)


@st.cache_resource
def model(name: str):
    path = ROOT / "checkpoints" / ("onnx/" + name if name.endswith("-onnx") else f"{name}.safetensors")
    m, _ = vae_core.load_checkpoint(path)
    return m


@st.cache_resource
def data(name: str):
    if name == "fashion60k":  # all 60,000 training images (the train and val splits together)
        tr, va = vae_core.load_dataset("fashion", "train"), vae_core.load_dataset("fashion", "val")
        return vae_core.Dataset(
            "fashion", "train", torch.cat([tr.images, va.images]), torch.cat([tr.labels, va.labels]), tr.classes
        )
    return vae_core.load_dataset(name, "train")


@st.cache_data
def codes(model_name: str, data_name: str):
    with torch.inference_mode():
        mean, logvar = encode_all(model(model_name), data(data_name).images)
    return mean.numpy(), logvar.numpy()


def show_event(event):
    """What the tests read back: the selection as one line of JSON (?quiet=1: its size only, so
    that the benchmark's bytes per rerun are the component's, not this echo's)."""
    st.text(f"ready={event.ready} fallback={event.fallback} trigger={event.trigger}")
    if st.query_params.get("quiet"):
        st.text(f"selected={len(event.selection)}")
    else:
        st.text("selection=" + json.dumps(event.selection))


def overlays(mean, logvar, proj):
    rng = np.random.default_rng(0)
    pick = rng.choice(len(mean), 150, replace=False)
    path = latent.lerp(torch.from_numpy(mean[0]), torch.from_numpy(mean[1]), 10).numpy()
    prior = torch.randn(300, mean.shape[1], generator=torch.Generator().manual_seed(0)).numpy()
    xs = np.linspace(-3, 3, 48)
    gx, gy = np.meshgrid(xs, xs[::-1])
    holes = np.exp(-0.5 * ((gx - 2) ** 2 + (gy + 2) ** 2))  # a demo shade, not a real measurement
    return [
        lm.Raster(holes, (-3, 3, -3, 3), name="demo shade"),
        lm.Ellipses(proj.embedding[pick], proj.transform_cov(np.exp(logvar[pick]))),
        lm.Circle(2.0),
        lm.Points(proj.transform(prior), name="prior samples"),
        lm.Polyline(proj.transform(path), name="interpolation"),
        lm.Markers(proj.transform(mean[2:3]), labels=["your digit"], name="your digit"),
    ]


def map_demo(model_name: str, data_name: str, method: str, height: int = 520):
    m, ds = model(model_name), data(data_name)
    mean, logvar = codes(model_name, data_name)
    proj = projection.fit_projection(mean, method)
    labels = ds.labels.numpy()
    pts = cached.points(CACHE, f"{model_name}:{data_name}:{method}", proj.embedding, labels, ds.classes)
    imgs = cached.images(CACHE, f"{data_name}:{len(ds)}", ds.images)
    dec = cached.decoder(CACHE, model_name, 0.0, m)
    c1, c2, c3, c4 = st.columns(4)
    show_overlays = c1.toggle("Overlays", key="ov")
    by_value = c2.toggle("Colour by KL", key="kl")
    classes = range(len(ds.classes))
    visible = c3.multiselect(
        "Classes shown", classes, default=list(classes), format_func=ds.classes.__getitem__, key="vis"
    )
    hi = c4.number_input("Highlight index (-1: none)", -1, len(ds) - 1, -1, key="hi")
    if st.toggle("Hide the map (a later show remounts it)", key="hide"):
        st.text("selection=" + json.dumps(st.session_state.get("sel", [])))
        return
    values = None
    if by_value:
        kl = 0.5 * (mean**2 + np.exp(logvar) - logvar - 1).sum(1)
        values = lm.publish_values(store, kl, "KL (nats)", "magma")
    event = lm.latent_map(
        pts,
        store,
        key=f"map_{DEMO}",
        images=imgs,
        decoder=dec,
        lift=lm.Lift.from_projection(proj),
        overlays=overlays(mean, logvar, proj) if show_overlays else (),
        selection=st.session_state.get("sel"),
        visible_classes=visible,
        values=values,
        highlight=None if hi < 0 else int(hi),
        axis_labels=proj.axis_labels,
        equal_aspect=method == "native",
        height=height,
        renderer=st.query_params.get("renderer", "auto"),
    )
    if event.fallback:
        st.warning(event.reason)
        st.plotly_chart(figures.latent_scatter(proj.embedding, labels, ds.classes, None, proj.axis_labels), key="fb")
    st.session_state["sel"] = event.selection
    show_event(event)


def sliders_demo(name: str = "vae-z16"):
    m = model(name)
    mean, logvar = codes(name, "mnist5k")
    order = latent.dimension_order(torch.from_numpy(mean), torch.from_numpy(logvar)).tolist()
    start = st.radio("Start from", ["origin", "digit 3"], horizontal=True, key="start")
    base = mean[3] if start == "digit 3" else np.zeros(16, np.float32)
    event = lm.slider_decoder(cached.decoder(CACHE, name, 0.0, m), store, base, key="sl", order=order)
    st.text("z=" + json.dumps(None if event.z is None else np.round(event.z, 4).tolist()))
    st.text(f"ready={event.ready} fallback={event.fallback}")


def grid_demo():
    m = model("vae-z2")
    n = st.slider("Grid size", 5, 25, 15, key="n")
    values = latent.grid_values(n, 0.95, "quantile").tolist()
    event = lm.grid_decoder(cached.decoder(CACHE, "vae-z2", 0.0, m), store, np.zeros(2), (0, 1), values, key="grid")
    st.text(f"cell={event.clicked} ready={event.ready}")


@st.cache_resource
def conv_decoder():
    """The benchmark's 64x64 RGB conv decoder (bench/conv_decoder.py) as an ONNX decoder asset."""
    from bench.conv_decoder import IMAGE_SHAPE, LATENT_DIM, conv_decoder_graph

    return lm.publish_onnx_decoder(store, conv_decoder_graph(), LATENT_DIM, IMAGE_SHAPE)


def conv_demo(mode: str):
    dec = conv_decoder()
    if mode == "sliders":
        event = lm.slider_decoder(dec, store, np.zeros(dec.latent_dim), key="conv-sl")
        st.text(f"ready={event.ready} fallback={event.fallback}")
        return
    if mode == "grid":
        values = latent.grid_values(15, 0.95, "quantile").tolist()
        event = lm.grid_decoder(dec, store, np.zeros(dec.latent_dim), (0, 1), values, key="conv-grid")
        st.text(f"cell={event.clicked} ready={event.ready}")
        return
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(4500, 2)).astype(np.float32)
    pts = lm.publish_points(store, xy, rng.integers(0, 10, 4500), [str(c) for c in range(10)])
    lift = lm.Lift(np.zeros(dec.latent_dim, np.float32), np.eye(2, dec.latent_dim, dtype=np.float32))
    show_event(lm.latent_map(pts, store, key="conv-map", decoder=dec, lift=lift, equal_aspect=True))


def film_demo():
    """A synthetic film: the points drift from a blob to vae-z2's final map over 20 'epochs'."""
    ds = data("mnist5k")
    mean, _ = codes("vae-z2", "mnist5k")
    start = np.random.default_rng(0).normal(0, 0.3, mean.shape).astype(np.float32)
    t = np.linspace(0, 1, 20)[:, None, None] ** 0.5
    frames = (1 - t) * start + t * mean
    losses = {"recon": list(200 - 50 * t.ravel()), "KL": list(1 + 5 * t.ravel())}
    film = lm.publish_film(store, frames, range(1, 21), losses)
    pts = cached.points(CACHE, "vae-z2:mnist5k:native", mean, ds.labels.numpy(), ds.classes)
    imgs = cached.images(CACHE, f"mnist5k:{len(ds)}", ds.images)
    event = lm.latent_map(pts, store, key="film", images=imgs, film=film, axis_labels=("z1", "z2"), equal_aspect=True)
    show_event(event)


st.title(f"livemap demo: {DEMO}")
if DEMO == "map":
    map_demo("vae-z2", "mnist5k", "native")
elif DEMO == "pca":
    map_demo("vae-z16", "mnist5k", "pca")
elif DEMO == "big":
    map_demo("vae-z16", "fashion60k", "pca", height=600)
elif DEMO == "sliders":
    sliders_demo()
elif DEMO == "grid":
    grid_demo()
elif DEMO == "film":
    film_demo()
elif DEMO == "onnx":
    map_demo("vae-z2-onnx", "mnist5k", "native")
elif DEMO == "onnx-sliders":
    sliders_demo("vae-z16-onnx")
elif DEMO.startswith("conv"):
    conv_demo(DEMO.partition("-")[2] or "map")
else:
    st.error(f"Unknown demo {DEMO!r}.")
