"""A model's metrics on a dataset, in nats per image: what `python -m vae_core.evaluate` prints.

- ELBO terms and the importance-weighted NLL: the estimators of vae_core.model.estimators.
- Active units (Burda et al. 2016, sec. 5.2): unit u is active if Cov_x(E_q[z_u]) > 0.01.
- kNN accuracy: classify test latent means by their nearest training means (scikit-learn).
- Standard errors: every likelihood figure is a mean over images; `evaluate` reports it with
  the standard error of that mean (`recon_se`, `kl_se`, `neg_elbo_se`, `nll_iw_se`).
"""

from __future__ import annotations

import math

import torch

from ..model.estimators import elbo_per_image, encode_all, iw_nll_per_image
from ..model.losses import gaussian_kl
from .thresholds import ACTIVE_THRESHOLD


def mean_se(values: torch.Tensor) -> tuple[float, float]:
    """Mean and standard error (sample std / sqrt(n)) of per-image values: the figure's
    uncertainty from which 500 digits happened to be in the split. NaN SE where undefined
    (one value, or infinite values: the autoencoder's KL)."""
    v = values.double()
    mean = v.mean().item()
    if len(v) < 2 or not torch.isfinite(v).all():
        return mean, float("nan")
    return mean, (v.std() / math.sqrt(len(v))).item()


def active_units(means: torch.Tensor, threshold: float = ACTIVE_THRESHOLD) -> int:
    """Number of latent units whose posterior mean varies across the data (Cov_x > threshold)."""
    return int((means.var(0) > threshold).sum())


def knn_accuracy(train_means, train_labels, test_means, test_labels, k: int = 5) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=k).fit(train_means.cpu().numpy(), train_labels.cpu().numpy())
    return float(clf.score(test_means.cpu().numpy(), test_labels.cpu().numpy()))


def evaluate(model, data, train=None, iw_samples: int = 100, seed: int = 0, progress=None) -> dict:
    """All metrics on `data`; kNN accuracy needs the `train` split for its neighbours.

    Likelihood figures come with their standard errors over the images (`*_se`)."""
    model.eval()
    recon, kl = elbo_per_image(model, data.images, seed)
    out = {}
    for name, values in (("recon", recon), ("kl", kl), ("neg_elbo", recon + kl)):
        out[name], out[f"{name}_se"] = mean_se(values)
    nll = iw_nll_per_image(model, data.images, iw_samples, seed, progress=progress)
    out["nll_iw"], out["nll_iw_se"] = mean_se(nll)
    means, logvars = encode_all(model, data.images)
    out["kl_per_dim"] = gaussian_kl(means, logvars).mean(0).tolist()
    out["active_units"] = active_units(means)
    if train is not None and getattr(train, "labelled", True):  # unlabelled data: no classes to predict
        train_means, _ = encode_all(model, train.images)
        out["knn_accuracy"] = knn_accuracy(train_means, train.labels, means, data.labels)
    elif train is not None:
        out["knn_accuracy"] = None
    out["n"] = len(data)
    return out
