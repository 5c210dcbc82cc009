"""Ex-post density samplers: a Gaussian or a Gaussian mixture fitted to the codes.

Ghosh et al. (2020, "From Variational to Deterministic Autoencoders", sec. 4) sample any
autoencoder by fitting a density to its training codes after training ("ex-post density
estimation") and decoding draws from it instead of from N(0, I): a full-covariance Gaussian,
or a 10-component Gaussian mixture, which they found best. A deterministic autoencoder, whose
codes need not look like N(0, I) at all, becomes a generator this way, and a VAE whose
aggregate posterior does not fill its prior samples better.

Fitted densities are stored without pickle (npz: weights, means, covariances) in a folder the
caller passes, keyed by the checkpoint's content hash, the settings and the scikit-learn
version (a newer EM may fit differently), and drawn from with a torch.Generator.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..io.atomic import atomic_write
from ..io.projection_cache import file_digest  # the same content hash keys the t-SNE/UMAP caches

METHODS = ("gaussian", "gmm")


@dataclass
class SamplerSettings:
    method: str = "gmm"  # "gaussian" (one full-covariance Gaussian) or "gmm" (a mixture)
    n_components: int = 10  # mixture components (Ghosh et al. use 10); 1 for "gaussian"
    seed: int = 0  # seeds the mixture's k-means initialisation
    reg_covar: float = 1e-6  # added to each covariance's diagonal: keeps them invertible
    data: str = ""  # what the codes are, e.g. "mnist5k/train": part of the cache key

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"Unknown sampler {self.method!r}: choose one of {', '.join(METHODS)}.")
        if self.method == "gaussian":
            self.n_components = 1
        if not 1 <= int(self.n_components) <= 1000 or not self.reg_covar >= 0:
            raise ValueError(
                f"n_components must be 1..1000 and reg_covar >= 0 (got {self.n_components}, {self.reg_covar})."
            )


@dataclass
class DensitySampler:
    weights: np.ndarray  # [K] mixture weights, summing to 1
    means: np.ndarray  # [K, D]
    covariances: np.ndarray  # [K, D, D] full covariances

    def __post_init__(self):
        self.weights = np.asarray(self.weights, np.float64)
        self.means = np.asarray(self.means, np.float64)
        self.covariances = np.asarray(self.covariances, np.float64)
        k, d = self.means.shape if self.means.ndim == 2 else (0, 0)
        if k < 1 or self.weights.shape != (k,) or self.covariances.shape != (k, d, d):
            raise ValueError("A sampler needs weights [K], means [K, D] and covariances [K, D, D].")
        finite = all(np.isfinite(a).all() for a in (self.weights, self.means, self.covariances))
        if not finite or (self.weights < 0).any() or abs(self.weights.sum() - 1) > 1e-6:
            raise ValueError("Sampler weights must be non-negative and sum to 1, all values finite.")
        try:
            self._chol = torch.linalg.cholesky(torch.from_numpy(self.covariances))
        except RuntimeError:
            raise ValueError("A sampler covariance is not positive definite.") from None

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n codes [n, D] (float32): pick a component by weight, then mean + L·eps."""
        comp = torch.multinomial(torch.from_numpy(self.weights), n, replacement=True, generator=generator)
        eps = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        z = torch.from_numpy(self.means)[comp] + (self._chol[comp] @ eps[:, :, None])[:, :, 0]
        return z.float()

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log density of the mixture at z [M, D] -> [M] (float64)."""
        means, chol = torch.from_numpy(self.means), self._chol
        diff = z.double()[:, None, :] - means[None]  # [M, K, D]
        sol = torch.linalg.solve_triangular(chol[None], diff[..., None], upper=False)[..., 0]
        logdet = 2 * chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        log_n = -0.5 * ((sol**2).sum(-1) + logdet + self.dim * np.log(2 * np.pi))
        return torch.logsumexp(log_n + torch.from_numpy(np.log(self.weights)), 1)

    def save(self, path) -> Path:
        """Atomic npz write (no pickle), so two sessions fitting at once never leave half a file."""
        arrays = {"weights": self.weights, "means": self.means, "covariances": self.covariances}
        return atomic_write(path, lambda f: np.savez(f, **arrays), durable=False)  # a cache: validated on read

    @classmethod
    def load(cls, path) -> DensitySampler:
        """Read a saved sampler; ValueError (with the reason) for anything unusable."""
        try:
            with np.load(path, allow_pickle=False) as f:
                return cls(f["weights"], f["means"], f["covariances"])
        except (OSError, KeyError, EOFError, ValueError, zipfile.BadZipFile) as e:
            raise ValueError(f"{Path(path).name}: not a usable sampler file ({e}).") from None


def fit_sampler(codes, settings: SamplerSettings | None = None) -> DensitySampler:
    """Fit a Gaussian (mean, full covariance) or a scikit-learn GaussianMixture to codes [N, D]."""
    settings = settings or SamplerSettings()
    x = np.asarray(codes.detach().cpu() if isinstance(codes, torch.Tensor) else codes, np.float64)
    if x.ndim != 2 or len(x) < max(2, settings.n_components) or not np.isfinite(x).all():
        raise ValueError(
            f"Need finite codes [N, D] with N >= {max(2, settings.n_components)} to fit a {settings.method}, "
            f"not {list(x.shape)}."
        )
    d = x.shape[1]
    if settings.method == "gaussian":
        cov = np.cov(x, rowvar=False).reshape(d, d) + settings.reg_covar * np.eye(d)
        return DensitySampler(np.ones(1), x.mean(0, keepdims=True), cov[None])
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(
        settings.n_components, covariance_type="full", reg_covar=settings.reg_covar, random_state=settings.seed
    ).fit(x)
    return DensitySampler(gmm.weights_ / gmm.weights_.sum(), gmm.means_, gmm.covariances_)


def cache_path(checkpoint, settings: SamplerSettings, cache_dir, n_codes: int) -> Path:
    """Where the sampler for (checkpoint content, settings, N codes, scikit-learn version) lives."""
    import sklearn

    spec = json.dumps({**asdict(settings), "n_codes": int(n_codes), "sklearn": sklearn.__version__}, sort_keys=True)
    key = hashlib.sha256((file_digest(checkpoint) + spec).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{Path(checkpoint).stem}-{settings.method}-{key}.npz"


def cached_sampler(checkpoint, codes, settings: SamplerSettings | None = None, cache_dir=None) -> DensitySampler:
    """fit_sampler with an npz cache in `cache_dir` (None: no cache). An unreadable or
    corrupt cache file is refitted and replaced; an unwritable folder only costs a refit."""
    settings = settings or SamplerSettings()
    if cache_dir is None:
        return fit_sampler(codes, settings)
    path = cache_path(checkpoint, settings, cache_dir, len(codes))
    if path.is_file():
        try:
            sampler = DensitySampler.load(path)
            if sampler.dim == codes.shape[1] and len(sampler.weights) == settings.n_components:
                return sampler
        except ValueError:
            pass  # a damaged cache is only a cache: fit again below
    sampler = fit_sampler(codes, settings)
    try:
        sampler.save(path)
    except OSError:
        pass
    return sampler
