"""Datasets by name, held in memory as one tensor each (or a compact store), and what prepares an image.

catalog      the names, image shapes, classes and titles of the datasets, without torch
datasets     load_dataset(name, split): mnist5k, mnist, fashion, digits, shapes, folder:PATH
dataset      Dataset (images, labels or none, classes, true factors) and its stratified splits
store        compact images (bytes, bits; memory-mapped) that index to float batches
views        the same images as numpy without torch: bit unpacking, a lazy uint8 view (the app's maps)
shapes       dSprites' design, generated: 737,280 sprites with their five factors
folder       a folder of the user's images (ImageFolder conventions), decoded once into a cache
scan         walking an untrusted folder: layout, skipped files and their reasons, bounds
decode       one image file -> a square uint8 array (the crop-and-resize rule)
archive      a zip of images extracted safely (bounded, no paths out, no bombs)
images       the bounds and the guard for every untrusted image file (uploads, folders)
cache        where decoded data are cached, and how a cached array is checked when read back
idx          LeCun's IDX format, read without trusting the file
preprocess   an upload or a drawing -> an MNIST-style digit (prepare_image, load_image)
greyscale    any picture -> grey at working size, and the block extremes the shrink averaged away
augment      random shifts for training
binarize     the published likelihood protocol: dynamic binarisation, the fixed evaluation draw
attributes   shape attributes measured from pixels (Morpho-MNIST style)

Public names are imported on first use (vae_core._lazy): a folder's decoding workers import
this package with PIL and numpy alone, not torch.
"""

from .._lazy import exports

_PUBLIC = {
    "DATASETS": "catalog",
    "SPLITS": "catalog",
    "FOLDER_PREFIX": "catalog",
    "is_available": "catalog",
    "Dataset": "dataset",
    "UNLABELLED": "dataset",
    "load_dataset": "datasets",
    "DatasetUnavailable": "idx",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
