"""What datasets there are, what their images look like, what they are called, and whether
they are here: the facts the app's picker and captions need, without torch or the data itself.
A folder of the user's images is `folder:PATH`; its classes and image form come from the data
(vae_core.data.folder), so the tables here hold the named datasets only.

One home for each: the names, the image shapes, the class names, the running-text titles and
nouns ("digit" for MNIST-like data, "image" elsewhere), and where IDX files are looked for.
"""

from __future__ import annotations

from pathlib import Path

DATASETS = ("mnist5k", "mnist", "fashion", "digits", "shapes")  # and folder:PATH, any folder of images
FOLDER_PREFIX = "folder:"
SPLITS = ("train", "val", "test", "trainval")  # trainval: train + val, every training image
VAL_FRACTION, SPLIT_SEED = 0.1, 0  # the val split: this share of each class, drawn by torch's generator (dataset.py)
DIGIT_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot")
SHAPE_CLASSES = ("square", "ellipse", "heart")  # dSprites' shapes, in its order (vae_core.data.shapes)
IMAGE_SHAPES = {
    "mnist5k": (1, 28, 28),
    "mnist": (1, 28, 28),
    "fashion": (1, 28, 28),
    "digits": (1, 8, 8),
    "shapes": (1, 64, 64),
}
TITLES = {
    "mnist5k": "MNIST",
    "mnist": "MNIST",
    "fashion": "Fashion-MNIST",
    "digits": "scikit-learn 8×8",
    "shapes": "Shapes (dSprites' design)",
}
DIGITS = ("mnist5k", "mnist", "digits")  # data sets whose images are handwritten digits
EMBEDDED = ("mnist5k", "digits")  # inside installed wheels: always here
GENERATED = ("shapes",)  # made here on first use: always here
HAS_TEST = ("mnist", "fashion")  # a separate test split (a folder has one when it has train/ and test/)
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
# Shape attributes measured from pixels (vae_core.data.attributes, after Morpho-MNIST) and their units.
ATTRIBUTE_UNITS = {"area": "px²", "thickness": "px", "slant": "°", "width": "px", "height": "px"}
# The true factors a generated dataset carries per image (shapes: dSprites' own; vae_core.data.shapes).
FACTOR_UNITS = {
    "scale": "× the largest",
    "orientation": "radians",
    "pos_x": "0 left to 1 right",
    "pos_y": "0 top to 1 bottom",
}
ATTRIBUTE_WORDS = {
    "area": "ink area",
    "thickness": "stroke thickness",
    "slant": "slant",
    "width": "width",
    "height": "height",
}
# What one upload should show (the Encode page's uploader): by dataset, else by what its images are.
UPLOAD_HINTS = {
    "fashion": "A photo of one garment, shoe or bag (the model saw them light on a black background)",
    "digit": "A photo, scan or PNG of one handwritten digit",
    "image": "A picture like the dataset's images",
}
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
    """The dataset's name in running text: an image folder by its own name, not its whole path."""
    if is_synthetic(name):
        return f"generated MNIST ({int(name[len(SYNTHETIC_PREFIX) :]):,} shifted digits)"
    if name.startswith(FOLDER_PREFIX):
        return Path(name[len(FOLDER_PREFIX) :]).name or name
    return TITLES.get(name, name)


def noun(name: str) -> str:
    """What one image of the dataset is called in running text."""
    return "digit" if name in DIGITS or is_synthetic(name) else "image"


def a_noun(name: str) -> str:
    """ "a digit", "an image": the noun with its article."""
    word = noun(name)
    return ("an " if word[0] in "aeiou" else "a ") + word


def plural(name: str) -> str:
    return noun(name) + "s"


def upload_hint(name: str) -> str:
    """The uploader's label: what kind of picture the model expects."""
    return UPLOAD_HINTS.get(name, UPLOAD_HINTS[noun(name)])


def attribute_words(name: str) -> str:
    """The attributes that mean something for this dataset, in words: "ink area, slant, ..."."""
    return ", ".join(ATTRIBUTE_WORDS[a] for a in attributes(name))


def colourings(name: str) -> tuple[str, ...]:
    """What a map of this dataset can be coloured by besides its class: the true factors where the
    data has them (shapes: scale, orientation, x, y; measuring 663,552 sprites' pixels would take
    minutes and say less), else the shape attributes."""
    return tuple(FACTOR_UNITS) if name == "shapes" else attributes(name)


def unit(colouring: str) -> str:
    """The unit of a factor or attribute (a map's colour scale names it)."""
    return FACTOR_UNITS.get(colouring) or ATTRIBUTE_UNITS[colouring]


def attributes(name: str) -> tuple[str, ...]:
    """The shape attributes that mean something for this dataset's images: stroke measures for
    handwriting; for garments, only area, width and height (a shirt has no slant or stroke); none
    for an image folder (its images need not be ink on a dark ground: "ink area" of a photo means nothing)."""
    if name.startswith(FOLDER_PREFIX) or name == "shapes":  # sprites: their true factors say more (colourings)
        return ()
    if name in DIGITS or is_synthetic(name):
        return tuple(ATTRIBUTE_UNITS)
    return ("area", "width", "height")


def classes(name: str) -> tuple[str, ...]:
    """The class names of a named dataset; a folder's come from its sub-folders (its Dataset's `classes`)."""
    if name.startswith(FOLDER_PREFIX):
        return ()
    return {"fashion": FASHION_CLASSES, "shapes": SHAPE_CLASSES}.get(name, DIGIT_CLASSES)


def default_split(name: str) -> str:
    """The split a model is evaluated on: test where the data have one, else val."""
    if name.startswith(FOLDER_PREFIX):
        path = Path(name[len(FOLDER_PREFIX) :])
        return "test" if all(exists(path / p) for p in ("train", "test")) else "val"
    return "test" if name in HAS_TEST else "val"


def data_form(name: str, image_shape) -> dict:
    """load_dataset's image_size and channels that give a model's (C, H, W): a folder is decoded at
    the model's size and channels; other data have one form ({})."""
    if not name.startswith(FOLDER_PREFIX):
        return {}
    return {"image_size": int(image_shape[1]), "channels": int(image_shape[0])}


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
    """Whether a dataset loads here without a download (the embedded and generated ones always do)."""
    if name in EMBEDDED or name in GENERATED or is_synthetic(name):
        return True
    if isinstance(name, str) and name.startswith(FOLDER_PREFIX):
        path = name[len(FOLDER_PREFIX) :]
        try:
            return bool(path.strip()) and Path(path).is_dir()
        except (OSError, ValueError):  # unreadable parent, a NUL byte
            return False
    try:
        return any(has_files(folder, "train") for folder in idx_folders(name, root))
    except OSError:
        return False
