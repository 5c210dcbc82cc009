"""Content-addressed assets for the live map: written once to a cache folder, fetched once by the browser.

Everything big (points, per-point values, digit images, decoder weights or graphs, training-film frames)
goes to a file named by the SHA-256 of its bytes. The component's rerun arguments carry only
these names, so a rerun costs a few hundred bytes, and the browser keeps what it fetched (an
in-memory map that survives reruns and remounts, plus the Cache API where the page is a secure
context). A name never changes meaning, so no cache ever needs invalidating.

Files are written atomically (temporary file + rename) and only when missing, so two sessions
publishing the same data at once cannot leave a half-written file. No Streamlit here: the
store is served by `component.py` through a public components-v1 static path.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

MARKER = ".livemap-cache"  # marks a folder as ours: the server exposes every file in it
REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("ui", "views", "vae_core", "checkpoints", "scripts", "docs", "bench", "tests", ".streamlit")
DTYPES = ("float32", "float16", "uint8", "uint16", "int32")
IMAGE_CHUNK = 256  # digits per image file: the first hover in a chunk fetches ~50-120 kB gzipped
MAX_POINTS = 2_000_000  # twice the million-point target; beyond it a browser tab runs short of memory


class AssetError(ValueError):
    """Input the live map cannot publish; the message names the problem for a person."""


@dataclass(frozen=True)
class ArrayRef:
    """One array in the store, as the browser needs to read it back."""

    file: str  # file name inside the store (content hash + suffix)
    dtype: str  # one of DTYPES, little-endian
    shape: tuple[int, ...]  # array shape, C order
    gz: bool = False  # gzip-compressed on disk (the browser inflates it with DecompressionStream)

    def arg(self) -> dict:
        return {"file": self.file, "dtype": self.dtype, "shape": list(self.shape), "gz": self.gz}


@dataclass(frozen=True)
class PointSet:
    """The map's points: positions and class labels, one row per dataset index."""

    xy: ArrayRef  # float32 [N, 2]
    labels: ArrayRef  # uint8 [N] (uint16 above 255 classes)
    classes: tuple[str, ...]  # class names, by label

    @property
    def n(self) -> int:
        return self.xy.shape[0]

    def arg(self) -> dict:
        return {"xy": self.xy.arg(), "labels": self.labels.arg(), "classes": list(self.classes), "n": self.n}


@dataclass(frozen=True)
class ImageSet:
    """The dataset's images as uint8 [N, C, H, W] (planar; C = 1 grey or 3 RGB): gzipped chunks
    fetched on first hover, or, where the server answers the image route (route.py), any images
    asked for in one request."""

    prefix: str  # content hash of all images; chunk k is f"{prefix}-{k}.u8.gz"
    n: int  # number of images
    height: int  # pixels
    width: int  # pixels
    chunk: int  # images per chunk file
    route: str | None = None  # URL of the image route, relative to the component's page (None: chunks)
    channels: int = 1  # 1 grey, 3 colour (planar per image: all red, then green, then blue)

    def arg(self) -> dict:
        return {
            "prefix": self.prefix,
            "n": self.n,
            "c": self.channels,
            "h": self.height,
            "w": self.width,
            "chunk": self.chunk,
            "route": self.route,
        }


@dataclass(frozen=True)
class MlpDecoderAsset:
    """kind "mlp": an MLP decoder (Linear, activation, ..., Linear, sigmoid) run by our own
    JavaScript (frontend/core/decoder.js): a third of a millisecond per image, nothing to load."""

    weights: ArrayRef  # per layer W [out, in] row-major then b [out], all layers concatenated
    layers: tuple[tuple[int, int], ...]  # (in, out) of each Linear, input first
    activation: str  # "elu" or "relu", between the Linear layers
    image_shape: tuple[int, int, int]  # (C, H, W) of the decoded image

    kind: ClassVar[str] = "mlp"

    @property
    def latent_dim(self) -> int:
        return self.layers[0][0]

    def arg(self) -> dict:
        return {
            "kind": self.kind,
            "weights": self.weights.arg(),
            "layers": [list(p) for p in self.layers],
            "activation": self.activation,
            "image_shape": list(self.image_shape),
        }


@dataclass(frozen=True)
class OnnxDecoderAsset:
    """kind "onnx": any other decoder (a user's ONNX model, a convolutional one) as an ONNX graph
    run by onnxruntime-web inside the page (frontend/core/onnx.js, shipped in frontend/vendor/).

    The graph takes float32 [N, latent_dim] and gives float32 [N, C, H, W]: logits (the browser
    applies the sigmoid, as `model.decode` does) or probabilities (clamped to [0, 1])."""

    graph: ArrayRef  # uint8 [bytes]: the self-contained graph, a content-addressed .onnx file
    latent_dim: int  # D of the graph's input
    image_shape: tuple[int, int, int]  # (C, H, W) of the decoded image
    input: str = "z"  # the graph's input name
    output: str = "logits"  # the graph's output name
    output_kind: str = "logits"  # "logits" or "probs"

    kind: ClassVar[str] = "onnx"

    def arg(self) -> dict:
        return {
            "kind": self.kind,
            "graph": self.graph.arg(),
            "latent_dim": self.latent_dim,
            "image_shape": list(self.image_shape),
            "input": self.input,
            "output": self.output,
            "output_kind": self.output_kind,
        }


DecoderAsset = MlpDecoderAsset | OnnxDecoderAsset  # what the map, the sliders and the grid decode with


@dataclass(frozen=True)
class ValueSet:
    """A continuous value per point, coloured through a scale with a colour bar."""

    values: ArrayRef  # float32 [N]
    label: str  # the colour bar's title
    scale: str = "viridis"  # viridis, magma, blues or rdbu (diverging, centred on 0)
    vmin: float = 0.0  # colour-bar range (finite values of the data by default)
    vmax: float = 1.0

    def arg(self) -> dict:
        return {**self.values.arg(), "label": self.label, "scale": self.scale, "vmin": self.vmin, "vmax": self.vmax}


@dataclass(frozen=True)
class Film:
    """A training film: the points' map positions after each epoch, and the loss curves."""

    frames: ArrayRef  # float16 [E, N, 2]: the positions, frame by frame
    epochs: tuple[int, ...]  # epoch number of each frame
    losses: dict = field(default_factory=dict)  # {"series name": [value per frame]}
    colors: dict = field(default_factory=dict)  # {"series name": CSS colour}, as on the page's loss chart

    def arg(self) -> dict:
        return {"frames": self.frames.arg(), "epochs": list(self.epochs), "losses": self.losses, "colors": self.colors}


class AssetStore:
    """A folder of content-addressed files. The caller owns it; the live map only adds files.

    The folder is served to browsers as-is, so it must hold nothing else: a new or empty folder
    is marked as ours, and a folder with other files but no marker is refused.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()
        shipped = [REPO / name for name in SHIPPED]
        if (
            self.root in REPO.parents
            or self.root == REPO
            or any(s == self.root or s in self.root.parents for s in shipped)
        ):
            raise AssetError(
                f"The live map's cache folder {self.root} is (inside) the repository's shipped files; "
                "pass a separate folder (e.g. $VAE_EXPLORER_LIVEMAP_CACHE)."
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            marker = self.root / MARKER
            if not marker.exists():
                if any(self.root.iterdir()):
                    raise AssetError(
                        f"{self.root} already holds other files: the live map serves its whole cache folder "
                        "to the browser, so give it an empty or new folder."
                    )
                marker.write_text("Generated assets of ui/livemap; safe to delete.\n")
        except OSError as e:
            raise AssetError(f"The live map's cache folder {self.root} is not writable: {e.strerror}.") from e

    def put(self, data: bytes, suffix: str, gz: bool = False, name: str | None = None) -> str:
        """Write `data` (compressed when gz) under its content hash unless present; the file name."""
        name = name or hashlib.sha256(data).hexdigest()[:24] + suffix
        path = self.root / name
        if not path.exists():
            blob = gzip.compress(data, compresslevel=6, mtime=0) if gz else data
            self._write(path, blob)
        return name

    def put_array(self, a: np.ndarray, dtype: str, gz: bool = False) -> ArrayRef:
        if dtype not in DTYPES:
            raise AssetError(f"Unsupported asset dtype {dtype!r}: use one of {', '.join(DTYPES)}.")
        arr = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<"))
        suffix = {"float32": ".f32", "float16": ".f16", "uint8": ".u8", "uint16": ".u16", "int32": ".i32"}[dtype]
        name = self.put(arr.tobytes(), suffix + (".gz" if gz else ""), gz)
        return ArrayRef(name, dtype, tuple(int(s) for s in arr.shape), gz)

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    def _write(self, path: Path, blob: bytes) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
