"""Turn arrays and models into live-map assets, checking them first (one clear line when wrong).

Each `publish_*` hashes its bytes and writes a file only when the store lacks it, so calling
it again with the same data is cheap (hashing 47 MB of 60k digits takes ~0.1 s: wrap that one
in a cache keyed by the dataset, see `cached.py`).
"""

from __future__ import annotations

import hashlib
import math
import re

import numpy as np

from . import route
from .assets import (
    IMAGE_CHUNK,
    MAX_POINTS,
    ArrayRef,
    AssetError,
    AssetStore,
    DecoderAsset,
    Film,
    ImageSet,
    MlpDecoderAsset,
    OnnxDecoderAsset,
    PointSet,
    ValueSet,
)

SCALES = ("viridis", "magma", "blues", "rdbu")
MAX_FILM_BYTES = 200_000_000  # frames x points x 2 float16; a browser tab holds this comfortably
# An ONNX decoder graph is downloaded and held by every tab that decodes with it: a conv VAE's is
# 1-10 MB, the recipe's MLP's 1 MB. Larger graphs are not sent; the pages decode on the server.
MAX_BROWSER_GRAPH_BYTES = 64 * 2**20
OUTPUT_KINDS = ("logits", "probs")  # how an ONNX decoder ends: before its sigmoid, or after it
PAINTED_CHANNELS = (1, 3)  # grey or RGB: what the browser paints
MAX_LATENT_DIM = 4096  # a code the browser builds per pointer move; far above any model here


def _finite_xy(xy, what: str) -> np.ndarray:
    a = np.asarray(xy, dtype=np.float32)
    if a.ndim != 2 or a.shape[1] != 2:
        raise AssetError(f"{what} must be an array of shape [N, 2], not {list(a.shape)}.")
    if not np.isfinite(a).all():
        raise AssetError(f"{what} holds NaN or infinite positions: {int((~np.isfinite(a)).any(1).sum())} of them.")
    return a


def publish_points(store: AssetStore, xy, labels, classes) -> PointSet:
    """Map positions [N, 2] and integer class labels [N] (0 <= label < len(classes))."""
    xy = _finite_xy(xy, "Map positions")
    n = len(xy)
    if not 1 <= n <= MAX_POINTS:
        raise AssetError(f"A map needs between 1 and {MAX_POINTS:,} points, not {n:,}.")
    lab = np.asarray(labels)
    if lab.shape != (n,) or not np.issubdtype(lab.dtype, np.integer):
        raise AssetError(f"Labels must be {n:,} integers (one per point), not {lab.dtype} of shape {list(lab.shape)}.")
    classes = tuple(str(c) for c in classes)
    if n and (lab.min() < 0 or lab.max() >= len(classes)):
        raise AssetError(
            f"Labels must lie in 0..{len(classes) - 1} (one per class name); found {lab.min()}..{lab.max()}."
        )
    dtype = "uint8" if len(classes) <= 256 else "uint16"
    return PointSet(store.put_array(xy, "float32"), store.put_array(lab, dtype), classes)


def to_uint8_images(images) -> np.ndarray:
    """[N, H, W], [N, 1, H, W] or [N, 3, H, W], float in [0, 1] or uint8 -> uint8 [N, H, W] for grey,
    [N, 3, H, W] for colour (exact for x/255 data). A lazy uint8 view (vae_core.data.views.Uint8View:
    rows made when indexed) passes through unread, its grey channel dropped."""
    if getattr(images, "lazy", False) and images.dtype == np.uint8:
        return images.squeeze_channel() if images.ndim == 4 and images.shape[1] == 1 else images
    a = images.numpy() if hasattr(images, "numpy") else np.asarray(images)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 3 and not (a.ndim == 4 and a.shape[1] == 3):
        raise AssetError(f"Images must have shape [N, H, W], [N, 1, H, W] or [N, 3, H, W], not {list(a.shape)}.")
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    a = a.astype(np.float32)
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise AssetError("Float images must hold values in [0, 1] (the dataset's pixel intensities).")
    return np.rint(a * 255).astype(np.uint8)


def publish_images(store: AssetStore, images, chunk: int = IMAGE_CHUNK, digest: str | None = None) -> ImageSet:
    """The dataset's images for the hover tooltip: through the app's image route when the server
    answers it (route.py: nothing written), else gzipped in chunk files of `chunk`. `digest` names
    the images' content when the caller knows it (a million images take seconds to hash)."""
    u8 = to_uint8_images(images)
    n, c, h, w = u8.shape if u8.ndim == 4 else (u8.shape[0], 1, *u8.shape[1:])
    if not 1 <= chunk <= 65536:
        raise AssetError(f"An image chunk holds 1 to 65,536 images, not {chunk}.")
    form = f"{n}x{h}x{w}" + (f"/c{c}" if c != 1 else "")  # grey keeps its earlier names
    if digest is None and getattr(u8, "lazy", False):
        raise AssetError("Images made on demand are published under their generator's digest (digest=...).")
    if digest is None:
        digest = hashlib.sha256(u8.tobytes() + form.encode()).hexdigest()
    prefix = hashlib.sha256(f"{digest}/{form}/{chunk}".encode()).hexdigest()[:24]
    if route.installed():
        route.register(prefix, u8)
        return ImageSet(prefix, n, h, w, chunk, f"../..{route.PATH.format(digest=prefix)}", channels=c)
    for k in range(math.ceil(n / chunk)):
        name = f"{prefix}-{k}.u8.gz"
        if not store.has(name):
            store.put(u8[k * chunk : (k + 1) * chunk].tobytes(), "", gz=True, name=name)
    return ImageSet(prefix, n, h, w, chunk, channels=c)


def keep_serving(image_set: ImageSet | None, images) -> None:
    """A page that reuses a cached ImageSet calls this on every run: the route keeps only its
    MAX_SOURCES most recently used image sets, so one that other maps pushed out (the server's
    other sessions, a film, another dataset) is registered again before the browser asks for it —
    a map whose set was gone answered every hover with 400 and never showed an image."""
    if image_set is not None and image_set.route is not None and not route.touch(image_set.prefix):
        route.register(image_set.prefix, to_uint8_images(images))


def decoder_layers(model) -> tuple[list, str]:
    """The decoder's Linear layers and its activation, checked to be the MLP the browser can run."""
    from torch import nn

    linears, acts = [], set()
    for m in model.decoder:
        if isinstance(m, nn.Linear):
            linears.append(m)
        elif isinstance(m, nn.ELU) and m.alpha == 1.0:
            acts.add("elu")
        elif isinstance(m, nn.ReLU):
            acts.add("relu")
        else:
            raise AssetError(f"The browser decoder runs Linear, ELU and ReLU layers only, not {type(m).__name__}.")
    if not linears or len(acts) > 1 or (len(linears) > 1 and not acts):
        raise AssetError("The decoder must be Linear layers with one kind of activation (ELU or ReLU) between them.")
    return linears, acts.pop() if acts else "elu"


def publish_decoder(store: AssetStore, model, dtype: str = "auto") -> DecoderAsset:
    """The model's decoder for the browser: an ONNX model's own graph (kind "onnx"), or an MLP's
    weights (kind "mlp"), in float16 when that is exact (the shipped models) else float32.

    Any other decoder (a convolutional one) travels as ONNX too: export it and call
    publish_onnx_decoder (ui/services/map_assets.py does, with vae_core.io.onnx_export)."""
    graph = getattr(model, "decoder_graph", None)
    if isinstance(graph, bytes):  # vae_core.model.onnx_vae.OnnxVAE: the checked, self-contained graph
        cfg = model.config
        names = cfg.tensor_names
        return publish_onnx_decoder(
            store,
            graph,
            cfg.latent_dim,
            cfg.image_shape,
            input=names["z"],
            output=names[cfg.decoder_output],
            output_kind=cfg.decoder_output,
        )
    linears, activation = decoder_layers(model)
    layers = [(m.weight.detach().cpu().float().numpy(), m.bias.detach().cpu().float().numpy()) for m in linears]
    return publish_mlp_decoder(store, layers, activation, model.config.image_shape, dtype)


def publish_mlp_decoder(
    store: AssetStore, layers, activation: str, image_shape, dtype: str = "auto"
) -> MlpDecoderAsset:
    """An MLP decoder from its Linear layers [(W [out, in], b [out]), ...] as numpy arrays (no torch
    needed: vae_core.io.weights reads them from a checkpoint)."""
    if activation not in ("elu", "relu"):
        raise AssetError(f"The browser's decoder runs ELU or ReLU MLPs, not {activation!r}.")
    parts = []
    for w, b in layers:
        parts += [np.asarray(w, np.float32).ravel(), np.asarray(b, np.float32).ravel()]
    flat = np.concatenate(parts)
    if dtype == "auto":
        dtype = "float16" if np.array_equal(flat.astype(np.float16).astype(np.float32), flat) else "float32"
    if dtype not in ("float16", "float32"):
        raise AssetError(f"Decoder weights travel as float16 or float32, not {dtype!r}.")
    layers = tuple((int(np.shape(w)[1]), int(np.shape(w)[0])) for w, _ in layers)
    shape = _image_shape(image_shape)
    if layers[-1][1] != math.prod(shape):
        raise AssetError(f"The decoder's last layer gives {layers[-1][1]} values, not {math.prod(shape)} pixels.")
    return MlpDecoderAsset(store.put_array(flat, dtype), layers, activation, shape)


def publish_onnx_decoder(
    store: AssetStore,
    graph: bytes,
    latent_dim: int,
    image_shape,
    *,
    input: str = "z",
    output: str = "logits",
    output_kind: str = "logits",
) -> OnnxDecoderAsset:
    """A decoder given as ONNX bytes (float32 [N, latent_dim] -> float32 [N, C, H, W]), run in the
    browser by onnxruntime-web. The bytes must be self-contained (no external data) and already
    checked by whoever read them (vae_core.io.onnx_graph for a user's model): the browser runs
    them in its WebAssembly sandbox, and reports a graph it cannot run instead of drawing."""
    if not isinstance(graph, bytes | bytearray) or not graph:
        raise AssetError("An ONNX decoder is given as the graph's bytes.")
    if len(graph) > MAX_BROWSER_GRAPH_BYTES:
        raise AssetError(
            f"The decoder's graph is {len(graph) / 2**20:.1f} MB; graphs over {MAX_BROWSER_GRAPH_BYTES >> 20} MB "
            "are not sent to the browser."
        )
    if output_kind not in OUTPUT_KINDS:
        raise AssetError(f"An ONNX decoder gives {' or '.join(OUTPUT_KINDS)}, not {output_kind!r}.")
    for what, name in (("input", input), ("output", output)):
        if not isinstance(name, str) or not 1 <= len(name) <= 200 or not name.isprintable():
            raise AssetError(f"The decoder's {what} name must be printable text of 1 to 200 characters.")
    d = int(latent_dim)
    if not 1 <= d <= MAX_LATENT_DIM:
        raise AssetError(f"The decoder's latent size must be 1 to {MAX_LATENT_DIM:,}, not {latent_dim}.")
    name = store.put(bytes(graph), ".onnx")
    ref = ArrayRef(name, "uint8", (len(graph),), False)
    return OnnxDecoderAsset(ref, d, _image_shape(image_shape), input, output, output_kind)


def _image_shape(image_shape) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or shape[0] not in PAINTED_CHANNELS or min(shape) < 1:
        raise AssetError(
            f"The browser paints images of shape [C, H, W] with C = 1 (grey) or 3 (RGB), not {list(shape)}."
        )
    return shape


def publish_values(store: AssetStore, values, label: str, scale: str = "viridis", vmin=None, vmax=None) -> ValueSet:
    """A continuous value per point (NaN draws grey), for colouring the map through `scale`."""
    v = np.asarray(values, dtype=np.float32)
    if v.ndim != 1:
        raise AssetError(f"Point values must be one number per point, not shape {list(v.shape)}.")
    if scale not in SCALES:
        raise AssetError(f"Unknown colour scale {scale!r}: use one of {', '.join(SCALES)}.")
    finite = v[np.isfinite(v)]
    lo = float(finite.min()) if vmin is None and len(finite) else float(vmin if vmin is not None else 0.0)
    hi = float(finite.max()) if vmax is None and len(finite) else float(vmax if vmax is not None else 1.0)
    if scale == "rdbu" and vmin is None and vmax is None:
        lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))  # diverging: 0 sits in the middle
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise AssetError(f"The colour range must be finite with vmin <= vmax, not {lo}..{hi}.")
    return ValueSet(store.put_array(v, "float32"), str(label), scale, lo, hi if hi > lo else lo + 1.0)


def publish_film(
    store: AssetStore, frames, epochs=None, losses: dict | None = None, colors: dict | None = None
) -> Film:
    """Map positions per epoch [E, N, 2] (float16 on the wire), their epoch numbers, loss series
    and the series' colours (those of the page's loss chart; unnamed series get the palette's)."""
    f = np.asarray(frames, dtype=np.float32)
    if f.ndim != 3 or f.shape[2] != 2 or f.shape[0] < 1:
        raise AssetError(f"Film frames must have shape [epochs, N, 2], not {list(f.shape)}.")
    if not np.isfinite(f).all():
        raise AssetError("Film frames hold NaN or infinite positions.")
    if f.size * 2 > MAX_FILM_BYTES:
        raise AssetError(f"A film of {f.shape[0]} frames x {f.shape[1]:,} points is too big for a browser tab.")
    e = list(range(1, len(f) + 1)) if epochs is None else [int(x) for x in epochs]
    if len(e) != len(f):
        raise AssetError(f"Give one epoch number per frame: {len(f)} frames, {len(e)} epochs.")
    series = {}
    for name, ys in (losses or {}).items():
        ys = [float(y) if y is not None and math.isfinite(y) else None for y in ys]
        if len(ys) != len(f):
            raise AssetError(f"Loss series {name!r} has {len(ys)} values for {len(f)} frames.")
        series[str(name)] = ys
    hues = {str(k): str(v) for k, v in (colors or {}).items() if str(k) in series and _css_colour(str(v))}
    return Film(_film_frames(store, f), tuple(e), series, hues)


def _css_colour(value: str) -> bool:
    """A #rgb / #rrggbb colour: the only kind a series colour may be (it is drawn, never parsed as markup)."""
    return bool(re.fullmatch(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?", value))


def _film_frames(store: AssetStore, f: np.ndarray) -> ArrayRef:
    span = float(np.abs(f).max()) if f.size else 0.0
    if span > 60000:  # float16 overflows past 65504: keep full precision instead
        return store.put_array(f, "float32")
    return store.put_array(f, "float16")
