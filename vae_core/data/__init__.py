"""Datasets by name, held in memory as one tensor each, and what prepares an image for a model.

datasets     load_dataset(name, split): mnist5k, mnist, fashion, digits; Dataset; splits
idx          LeCun's IDX format, read without trusting the file
preprocess   an upload or a drawing -> an MNIST-style digit (prepare_image, load_image)
greyscale    any picture -> grey at working size, and the block extremes the shrink averaged away
augment      random shifts for training
binarize     the published likelihood protocol: dynamic binarisation, the fixed evaluation draw
attributes   shape attributes measured from pixels (Morpho-MNIST style)
"""

from .._lazy import exports

_PUBLIC = {
    "DATASETS": "catalog",
    "SPLITS": "catalog",
    "is_available": "catalog",
    "Dataset": "datasets",
    "load_dataset": "datasets",
    "DatasetUnavailable": "idx",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
