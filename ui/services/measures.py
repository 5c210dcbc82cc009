"""The app's cached calls into vae_core's measures: metrics, sample quality, prior holes, fitted
samplers, shape attributes and their latent directions. Keyed by a ModelRef (model file, version,
dataset), with the model and codes passed as underscored (unhashed) arguments.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st
import torch

from ui import settings
from ui.services import data
from ui.services.models import ModelRef
from ui.services.subsample import DENSITY_MAX, few, sample_index
from vae_core.analysis import directions, quality, samplers
from vae_core.analysis import holes as hole_measures
from vae_core.data import attributes, catalog
from vae_core.io import classifier_file

SOURCES = {
    "prior": "N(0, I), the prior",
    "gaussian": "a Gaussian fitted to the codes",
    "gmm": "a 10-component mixture fitted to the codes",
}
N_JUDGED = 2000  # samples per figure: ±1 % on a share near 10 %, and ~0.4 s of decoding and judging


@st.cache_resource(max_entries=4, show_spinner=False)
def judge_for(data_name: str):
    """The shipped classifier that judges samples of this dataset: (model, meta), or None (always
    for an image folder: classifiers ship for named datasets only, see views/sample.py)."""
    if data_name.startswith(catalog.FOLDER_PREFIX):
        return None
    path = classifier_file.classifier_for(data_name, settings.shipped_dir() / "classifiers")
    return classifier_file.load_classifier(path) if path else None


@st.cache_resource(max_entries=32, show_spinner="Fitting a density to the codes…")
def sampler(ref: ModelRef, method: str, _mean: np.ndarray) -> samplers.DensitySampler:
    """A Gaussian or a 10-component mixture fitted to the posterior means (Ghosh et al. 2020),
    cached on disk in the app's cache folder."""
    fit = samplers.SamplerSettings(
        method=method, n_components=1 if method == "gaussian" else 10, data=f"{ref.data}/train"
    )
    return samplers.cached_sampler(ref.path, few(_mean)[0], fit, settings.cache_dir("samplers"))


def draw(ref: ModelRef, source: str, n: int, mean: np.ndarray, seed: int = 0) -> torch.Tensor:
    """n codes from `source` ("prior", "gaussian", "gmm"); the same draws on every run (seeded)."""
    gen = torch.Generator().manual_seed(seed)
    if source == "prior":
        return torch.randn(n, mean.shape[1], generator=gen)
    return sampler(ref, source, mean).sample(n, gen).float()


@st.cache_data(max_entries=64, show_spinner="Judging samples with the classifier…")
def sample_quality(ref: ModelRef, source: str, _model, _mean) -> dict | None:
    """Share of decoded samples the classifier cannot name, and class entropy; None without a classifier."""
    judge = judge_for(ref.data)
    if judge is None or tuple(judge[0].image_shape) != tuple(_model.config.image_shape):
        return None
    z = draw(ref, source, N_JUDGED, _mean)
    q = quality.sample_quality(_model, judge[0], z)
    return {**q.__dict__, "judge_accuracy": judge[1].get("val_accuracy")}


def classify(ref: ModelRef, images: torch.Tensor) -> np.ndarray | None:
    """Class probabilities [N, K] of images by the shipped classifier of ref.data; None without one
    (or when its image size differs)."""
    judge = judge_for(ref.data)
    if judge is None or tuple(judge[0].image_shape) != tuple(images.shape[1:]):
        return None
    return judge[0].predict_proba(images).numpy()


@st.cache_data(max_entries=32, show_spinner=False)
def code_scale(ref: ModelRef, _mean, _logvar) -> dict:
    return hole_measures.code_scale(torch.from_numpy(_mean), torch.from_numpy(_logvar)).__dict__


@st.cache_data(max_entries=8, show_spinner="Measuring every image's shape…")
def shape_attributes(data_name: str, split: str = "train") -> dict[str, np.ndarray]:
    """Ink area, thickness, slant, width, height of every image of the map (Morpho-MNIST style)."""
    images = data.dataset(data_name, split).images
    if isinstance(images, torch.Tensor):
        return {k: v.numpy() for k, v in attributes.measure(images).items()}
    step = 65_536  # compact images (a million generated digits): measured batch by batch, never all as floats
    parts = [attributes.measure(images[a : a + step]) for a in range(0, len(images), step)]
    return {k: torch.cat([p[k] for p in parts]).numpy() for k in parts[0]}


@st.cache_data(max_entries=16, show_spinner=False)
def factors_followed(ref: ModelRef, _mean: np.ndarray) -> list[tuple[str, float]]:
    """For data with true factors (shapes): per latent unit, the factor that explains most of its
    mean's variance and that R² (vae_core.analysis.factors), on the DENSITY_MAX rule's subsample
    of the training codes; [] for data without factors."""
    from vae_core.analysis.factors import factor_r2

    values = data.factor_values(ref.data) if ref.data == "shapes" else {}
    if not values or len(_mean) != len(next(iter(values.values()))):
        return []
    idx = sample_index(len(_mean)) if len(_mean) > DENSITY_MAX else np.arange(len(_mean))
    r2 = factor_r2(_mean[idx], {k: v[idx] for k, v in values.items()})
    names = list(r2)
    table = np.stack([r2[k] for k in names])  # [factors, units]
    return [(names[int(table[:, j].argmax())], float(table[:, j].max())) for j in range(table.shape[1])]


@st.cache_resource(max_entries=16, show_spinner="Fitting the attribute directions…")
def attribute_directions(ref: ModelRef, _model) -> directions.AttributeDirections:
    """The latent direction of each attribute: least squares on the training codes (the map's,
    from ui.services.latents; a fixed random DENSITY_MAX of them on a big dataset: `fitted_on`),
    R² on validation ones."""
    from ui.services import latents
    from vae_core.model.estimators import encode_all

    train, val = data.dataset(ref.data), data.dataset(ref.data, "val")
    mean = latents.codes(ref)[0]
    idx = np.arange(len(mean)) if len(mean) <= DENSITY_MAX else sample_index(len(mean))
    if len(idx) == len(mean):
        train_attrs = {k: torch.from_numpy(v) for k, v in shape_attributes(ref.data).items()}
    else:  # measured on the subsample only: a million digits' shapes take minutes here
        train_attrs = attributes.measure(train.images[torch.from_numpy(idx)])
    val_codes, _ = encode_all(_model, val.images)
    val_attrs = {k: torch.from_numpy(v) for k, v in shape_attributes(ref.data, "val").items()}
    dirs = directions.fit_directions(torch.from_numpy(mean[idx]), train_attrs, val_codes, val_attrs)
    return replace(dirs, fitted_on=(len(idx), len(mean)))


# The shipped VAEs that stand for their datasets when a page asks "which data does this image look like?"
REFERENCE_VAES = ("vae-z16", "fashion-vae-z16")
HELD_OUT = 1000  # held-out images a typicality reference is measured on (the validation split, at most this many)


@st.cache_data(max_entries=32, show_spinner="Measuring the model on held-out images…")
def held_out_scores(ref: ModelRef, _model) -> tuple[np.ndarray, str]:
    """Per-image −ELBO (an autoencoder: reconstruction) of up to HELD_OUT validation images of
    ref.data under the model, and the figure's name (vae_core.analysis.typicality)."""
    from vae_core.analysis.typicality import fit_scores

    values, name = fit_scores(_model, data.dataset(ref.data, "val").subset(HELD_OUT).images)
    return values.numpy(), name


def reference_refs(image_shape) -> dict[str, ModelRef]:
    """{dataset: its shipped reference VAE on it}, for the datasets here with images of this shape."""
    from ui.services.models import compatible_datasets, model_entries

    return {
        e.dataset: ModelRef.of(e, e.dataset)
        for e in model_entries()
        if e.ok and e.source == "shipped" and e.stem in REFERENCE_VAES and e.image_shape == tuple(image_shape)
        if e.dataset in compatible_datasets(e)
    }


IW_SAMPLES = 100  # K of the importance-weighted bound the pages show (the checkpoints store it for this K)


@st.cache_data(max_entries=32, show_spinner="Evaluating (importance-weighted bound)…")
def metrics(ref: ModelRef, _model, _meta: dict, iw_samples: int = IW_SAMPLES) -> dict:
    """Validation metrics; read from the checkpoint when it carries them for this data and K."""
    from vae_core.analysis.metrics import evaluate

    stored = _meta.get("evaluation") or {}
    same_data = _meta.get("dataset") == data.engine_name(ref.data)[0]
    if same_data and stored.get("iw_samples") == iw_samples and stored.get("split") == "val":
        return stored
    val = data.load(ref.data, "val").subset(500)
    # kNN neighbours: a fixed random DENSITY_MAX training images at most (663,552 sprites through a
    # conv encoder would take minutes here; 20,000 neighbours estimate the accuracy as well)
    return evaluate(_model, val, data.dataset(ref.data).subset(DENSITY_MAX), iw_samples=iw_samples)
