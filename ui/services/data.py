"""The datasets the maps show, and uploads prepared like them (cached once per content).

The engine (torch) is imported inside the functions: the default dataset's images and labels
ship as plain arrays (ui/services/first_map.py), so the first page needs neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from ui import settings
from ui.services import first_map, tasks
from vae_core.data import catalog

FORM_MARK = "@"  # folder:PATH@CxS: an image folder decoded at a model's channels and side


def folder_key(dataset: str, image_shape) -> str | None:
    """The app's name for the image folder a model was trained on, decoded at the model's form
    ("folder:/data/cells@3x64"), or None unless the folder lies under the allow-listed root
    (settings.allowed_folder): a checkpoint's header is a hint, never a path the app reads blindly."""
    if not dataset.startswith(catalog.FOLDER_PREFIX):
        return None
    path = settings.allowed_folder(dataset[len(catalog.FOLDER_PREFIX) :])
    c, h, w = (int(v) for v in image_shape)
    if path is None or h != w or c not in (1, 3):
        return None
    return f"{catalog.FOLDER_PREFIX}{path}{FORM_MARK}{c}x{h}"


MAX_FOLDERS = 64  # image folders the Train page offers from the allow-listed root, at most
TORCHVISION_DIRS = ("MNIST", "FashionMNIST")  # the named datasets' raw files, not image folders


def folders() -> list[str]:
    """The image folders directly under the allow-listed roots ($VAE_EXPLORER_DATA_ROOT, then the
    zips uploaded on the Train page) as data names ("folder:/abs/path"), sorted, hidden ones and
    torchvision's dataset folders left out. Nothing is decoded here (a job reads its folder)."""
    children = []
    for root in (settings.data_root(), settings.uploads_dir()):
        try:
            children += sorted(Path(root).iterdir()) if root and Path(root).is_dir() else []
        except OSError:
            continue
    found = []
    for child in children:
        if child.name.startswith(".") or child.name in TORCHVISION_DIRS:
            continue
        allowed = settings.allowed_folder(str(child))
        if allowed is not None:
            found.append(f"{catalog.FOLDER_PREFIX}{allowed}")
        if len(found) >= MAX_FOLDERS:
            break
    return found


def slug(text: str, most: int = 40) -> str:
    """`text` in file-name-safe characters (letters, digits, _ and -), at most `most` of them."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:most]


def extract_upload(name: str, blob: bytes) -> tuple[str, str]:
    """A zip of images uploaded in the browser, extracted safely (vae_core.data.archive: bounded,
    no path out of its folder, no bomb) into a new folder of the uploads root, named by its content
    (the same zip twice is one folder): (its data name, one line saying what was extracted and
    skipped). ArchiveRefused (a ValueError) says why a zip is refused."""
    import hashlib
    import io

    from vae_core.data.archive import extract_zip

    stem = slug(Path(name).stem) or "upload"
    target = settings.uploads_dir() / f"{stem}-{hashlib.sha256(blob).hexdigest()[:12]}"
    if target.is_dir():
        return f"{catalog.FOLDER_PREFIX}{target.resolve()}", f"{target.name} was uploaded before: using it."
    target.parent.mkdir(parents=True, exist_ok=True)
    done = extract_zip(io.BytesIO(blob), target)
    skipped = f"; skipped {len(done.skipped):,}: " + ", ".join(f"{n} ({why})" for n, why in done.skipped[:3])
    more = " …" if len(done.skipped) > 3 else ""
    line = f"Extracted {done.files:,} images into {target.name}" + (skipped + more if done.skipped else "") + "."
    return f"{catalog.FOLDER_PREFIX}{target.resolve()}", line


def engine_name(key: str) -> tuple[str, dict]:
    """(the engine's dataset name, load_dataset's image_size and channels) of an app data name;
    a folder is checked against the allow-listed root again (a name may come from a URL)."""
    if not key.startswith(catalog.FOLDER_PREFIX):
        return key, {}
    path, _, form = key[len(catalog.FOLDER_PREFIX) :].rpartition(FORM_MARK)
    c, _, side = form.partition("x")
    allowed = settings.allowed_folder(path)
    if allowed is None or not (c.isdigit() and side.isdigit()):
        raise ValueError(f"{catalog.title(key)} is not an image folder under VAE_EXPLORER_DATA_ROOT.")
    return f"{catalog.FOLDER_PREFIX}{allowed}", {"channels": int(c), "image_size": int(side)}


def load(key: str, split: str):
    """The whole split of an app data name (a named dataset, or an allow-listed folder at its form)."""
    import vae_core

    name, form = engine_name(key)
    return vae_core.load_dataset(name, split, settings.data_root(), **form)


def dataset(name: str, split: str = "train"):
    """The dataset a map shows. Generated data not on disk yet are made on the encode lane
    (ui/services/tasks: the page says so and follows it) instead of holding the page."""
    if catalog.is_synthetic(name) and split == "train" and not _generated(name):
        task = tasks.board().submit(("generate", name), ("generate", name), "encode", _making(name), _generate(name))
        if task.state != "done":
            raise tasks.Pending(task)
        tasks.board().forget(task.key)
    return _dataset(name, split)


@st.cache_resource(max_entries=8, show_spinner="Loading data…")
def _dataset(name: str, split: str = "train"):
    return load(name, split).subset(settings.MAP_POINTS)


def _generated(name: str) -> bool:
    from vae_core.data import synthetic

    return synthetic.is_generated(name)


def _generated_arrays(name: str):
    from vae_core.data import synthetic

    return synthetic.on_disk(name)


def _making(name: str) -> str:
    return f"Generating {catalog.title(name)} (once; then read from disk)"


def _generate(name: str):
    def work(task):
        import vae_core

        task.report("generate", 0, 1)
        vae_core.load_dataset(name, "train")
        task.report("generate", 1, 1)

    return work


def size(name: str) -> int:
    """How many points a map of `name` has, without loading generated data."""
    if catalog.is_synthetic(name):
        from vae_core.data import synthetic

        return min(synthetic.parse(name), settings.MAP_POINTS)
    return len(map_arrays(name)[1])


def map_arrays(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A map's points as numpy: (images uint8 [N, H, W], labels int64 [N], class names), the
    shipped arrays when they exist for this dataset, else the loaded training split's (bytes
    kept as bytes: a million generated digits are not copied)."""
    if catalog.is_synthetic(name) and not _generated(name):
        dataset(name)  # made on the encode lane first (raises tasks.Pending until then)
    return _map_arrays(name)


@st.cache_resource(max_entries=8, show_spinner=False)
def _map_arrays(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    shipped = first_map.dataset(name)
    if shipped is not None:
        return shipped
    from ui.livemap.publish import to_uint8_images

    made = _generated_arrays(name) if catalog.is_synthetic(name) else None
    if made is not None:  # generated digits on disk: bytes and labels, without torch
        return made[0][:, 0], made[1], catalog.classes(name)
    made = _shapes_arrays() if name == "shapes" else None
    if made is not None:
        return made

    d = _dataset(name)
    raw = d.images.uint8_view() if hasattr(d.images, "uint8_view") else d.images  # a store: never all as floats
    return to_uint8_images(raw), d.labels.numpy(), tuple(d.classes)


def _shapes_rows() -> np.ndarray | None:
    """The rows of the shapes map's images, shipped (the engine's training split, which it draws
    with torch), or None; None too if the map would be a subset of the split (settings.MAP_POINTS)."""
    from vae_core.data import shapes

    index = first_map.train_index("shapes", shapes.N_IMAGES)
    return index if index is not None and len(index) <= settings.MAP_POINTS else None


def _shapes_arrays():
    """The shapes map's sprites (lazy uint8, from the generated bits in the data cache), labels and
    classes without torch (its first page: the torch import took 1.7 s of it), or None (then the
    engine loads, and generates, the split)."""
    from ui.livemap.publish import to_uint8_images
    from vae_core.data import shapes

    index = _shapes_rows()
    bits = shapes.cached_bits() if index is not None else None
    if bits is None:
        return None
    return to_uint8_images(shapes.uint8_view(bits, index)), shapes.shape_labels(index), shapes.SHAPE_NAMES


def generated_digest(name: str) -> str | None:
    """The content digest of a generated dataset's training split, from its generator's inputs
    (hashing a million images would take seconds); None for data read from files."""
    if catalog.is_synthetic(name):
        from vae_core.data import synthetic

        return synthetic.digest(name)
    if name == "shapes":
        from vae_core.data import shapes

        return shapes.digest("train")
    return None


@st.cache_resource(max_entries=4, show_spinner=False)
def factor_values(name: str) -> dict[str, np.ndarray]:
    """The true factors of a map's training images (shapes), float32 [N] each; shared, never mutated."""
    index = _shapes_rows() if name == "shapes" else None
    if index is not None:  # the factors follow from the rows alone
        from vae_core.data import shapes

        return shapes.factor_values(index)
    return {k: v.numpy() for k, v in dataset(name).factors.items()}


@st.cache_data(max_entries=8, show_spinner=False)
def hover_text(data_name: str) -> list[str]:
    from ui.render.figures import braille

    d = dataset(data_name)
    images = d.images[0 : len(d)]  # a folder's images are a store: sliced, not indexed by a tuple
    return braille(images.mean(1).numpy())  # brightness: colour images are drawn by their mean channel


def prepare_drawing(rgba: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """A canvas's pixels (uint8 [H, W, 4]) prepared like an upload: (digit, None) or (None, message)."""
    from PIL import Image

    from vae_core.data.preprocess import prepare_image

    try:
        return prepare_image(Image.fromarray(rgba).convert("RGB")).unsqueeze(0).numpy(), None
    except ValueError as e:
        return None, str(e)


@st.cache_data(max_entries=32, show_spinner=False)
def prepare_upload(data: bytes, data_name: str = "") -> tuple[np.ndarray | None, str | None]:
    """Decode and prepare uploaded bytes once per content (reruns reuse it): (image, None) or
    (None, message). For a model of an image folder (data_name folder:PATH@CxS) like the folder's
    images (crop to square, resize, its channels); otherwise like an MNIST digit."""
    from vae_core.data.preprocess import load_image, prepare_image

    try:
        if data_name.startswith(catalog.FOLDER_PREFIX):
            from vae_core.data.folder import prepare_like_folder

            form = engine_name(data_name)[1]
            x = prepare_like_folder(data, form["image_size"], form["channels"], settings.UPLOAD_MB * 2**20)
            return x.unsqueeze(0).numpy(), None
        return prepare_image(load_image(data, settings.UPLOAD_MB * 2**20)).unsqueeze(0).numpy(), None
    except ValueError as e:
        return None, str(e)


@st.cache_resource(max_entries=8, show_spinner=False)
def film_arrays(name: str, n_points: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The training film's images: the fixed validation subset every film of this dataset follows
    (vae_core.training.film.film_index), as (uint8 images, labels, class names)."""
    from ui.livemap.publish import to_uint8_images
    from vae_core.training.film import film_index

    val = load(name, "val")
    idx = film_index(len(val), n_points)
    return to_uint8_images(val.images[idx]), val.labels[idx].numpy(), tuple(val.classes)


@dataclass(frozen=True)
class Example:
    """A shipped example image for the Encode page (scripts/ship_examples.py)."""

    dataset: str
    label: int
    class_name: str
    path: Path


def examples() -> list[Example]:
    """The shipped example PNGs, checkpoints/examples/<dataset>-<class index>-<name>.png, by dataset."""
    found = []
    for path in sorted((settings.shipped_dir() / "examples").glob("*.png")):
        name, _, rest = path.stem.partition("-")
        index = rest.split("-", 1)[0]
        if name in catalog.DATASETS and index.isdigit() and int(index) < len(catalog.classes(name)):
            found.append(Example(name, int(index), catalog.classes(name)[int(index)], path))
    return found


@st.cache_data(max_entries=16, show_spinner=False)
def example_pixels(path: str) -> np.ndarray:
    """An example's pixels (uint8 [H, W]), for its thumbnail."""
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("L"))


def prepare_example(path: str) -> tuple[np.ndarray | None, str | None]:
    """An example prepared exactly as an upload of the same file."""
    try:
        return prepare_upload(Path(path).read_bytes())
    except OSError as e:
        return None, f"The example {Path(path).name} cannot be read: {e.strerror or e}."
