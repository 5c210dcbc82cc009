"""Datasets by name, held in memory as one tensor each, and what prepares an image for a model.

datasets     load_dataset(name, split): mnist5k, mnist, fashion, digits; Dataset; splits
idx          LeCun's IDX format, read without trusting the file
preprocess   an upload or a drawing -> an MNIST-style digit (prepare_image, load_image)
greyscale    any picture -> grey at working size, and the block extremes the shrink averaged away
augment      random shifts for training
attributes   shape attributes measured from pixels (Morpho-MNIST style)
"""

from .datasets import DATASETS, SPLITS, Dataset, is_available, load_dataset
from .idx import DatasetUnavailable

__all__ = ["DATASETS", "SPLITS", "Dataset", "DatasetUnavailable", "is_available", "load_dataset"]
