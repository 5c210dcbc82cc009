"""What datasets there are, what their images look like, what they are called, and whether
they are here: the facts the app's picker and captions need, without torch or the data itself.

One home for each: the names, the image shapes, the class names, the running-text titles and
nouns ("digit" for MNIST-like data, "image" elsewhere), and where IDX files are looked for.
"""

from __future__ import annotations

from pathlib import Path

DATASETS = ("mnist5k", "mnist", "fashion", "digits")
SPLITS = ("train", "val", "test")
DIGIT_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot")
IMAGE_SHAPES = {"mnist5k": (1, 28, 28), "mnist": (1, 28, 28), "fashion": (1, 28, 28), "digits": (1, 8, 8)}
TITLES = {"mnist5k": "MNIST", "mnist": "MNIST", "fashion": "Fashion-MNIST", "digits": "scikit-learn 8×8"}
DIGITS = ("mnist5k", "mnist", "digits")  # data sets whose images are handwritten digits
EMBEDDED = ("mnist5k", "digits")  # inside installed wheels: always here
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
# Shape attributes measured from pixels (vae_core.data.attributes, after Morpho-MNIST) and their units.
ATTRIBUTE_UNITS = {"area": "px²", "thickness": "px", "slant": "°", "width": "px", "height": "px"}
# Generated digits for maps at scale (vae_core.data.synthetic): "synthetic:N", N images of 28x28.
SYNTHETIC_PREFIX = "synthetic:"
SYNTHETIC_MAX = 2_000_000
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def is_synthetic(name: str) -> bool:
    return isinstance(name, str) and name.startswith(SYNTHETIC_PREFIX)


def image_shape(name: str) -> tuple[int, int, int] | None:
    """(C, H, W) of a dataset's images, None for a name we do not know."""
    return (1, 28, 28) if is_synthetic(name) else IMAGE_SHAPES.get(name)


def title(name: str) -> str:
    """The dataset's name in running text."""
    if is_synthetic(name):
        return f"generated MNIST ({int(name[len(SYNTHETIC_PREFIX) :]):,} shifted digits)"
    return TITLES.get(name, name)


def noun(name: str) -> str:
    """What one image of the dataset is called in running text."""
    return "digit" if name in DIGITS or is_synthetic(name) else "image"


def attributes(name: str) -> tuple[str, ...]:
    """The shape attributes that mean something for this dataset's images: stroke measures for
    handwriting; for garments, only area, width and height (a shirt has no slant or stroke)."""
    if name in DIGITS or is_synthetic(name):
        return tuple(ATTRIBUTE_UNITS)
    return ("area", "width", "height")


def classes(name: str) -> tuple[str, ...]:  # synthetic:N are digits too
    return FASHION_CLASSES if name == "fashion" else DIGIT_CLASSES


def idx_folders(name: str, root=None) -> list[Path]:
    """Where the IDX files of mnist / fashion are looked for, in order."""
    sub = "MNIST" if name == "mnist" else "FashionMNIST"
    candidates = [Path(root) / sub / "raw", Path(root)] if root is not None else []
    if name == "fashion":
        candidates.append(DEBIAN_FASHION)
    return candidates


def with_gz(path: Path) -> Path:
    return path if exists(path) else path.with_name(path.name + ".gz")


def exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # permission denied on a parent, a name too long...: not usable here
        return False


def has_files(folder: Path, part: str) -> bool:
    return all(exists(with_gz(folder / f)) for f in IDX_FILES[part])


def is_available(name: str, root=None) -> bool:
    """Whether a dataset loads here without a download (the embedded ones always do)."""
    if name in EMBEDDED or is_synthetic(name):
        return True
    try:
        return any(has_files(folder, "train") for folder in idx_folders(name, root))
    except OSError:
        return False
