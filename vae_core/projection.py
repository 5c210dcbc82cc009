"""2-D maps of latent codes: native, PCA, t-SNE, UMAP — fitted once, cached on disk.

Follows scikit-learn's fit/transform split: a Projection is fitted to the dataset's codes
and places new codes (an upload, an interpolation path) on the same map. Native and PCA are
linear and place new points exactly. t-SNE has no transform at all (van der Maaten, 2014)
and UMAP's transform needs the fitted object, which we do not pickle; both place new points
at the distance-weighted mean of their nearest fitted codes, and say so (`exact` is False).
Embeddings are stored as .npz (no pickle) keyed by the checkpoint's content hash, the data
and the parameters, so a warm map never recomputes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

METHODS = ("native", "pca", "tsne", "umap")
DEFAULT_PARAMS = {"native": {}, "pca": {}, "tsne": {"perplexity": 30.0}, "umap": {"n_neighbors": 15, "min_dist": 0.1}}


@dataclass
class Projection:
    method: str
    params: dict
    embedding: np.ndarray  # [N, 2] the fitted codes' positions
    codes: np.ndarray  # [N, D] the fitted codes, for neighbour placement
    center: np.ndarray | None = None  # linear maps: xy = (z - center) @ components.T
    components: np.ndarray | None = None
    axis_labels: tuple[str, str] = field(default=("1", "2"))

    @property
    def exact(self) -> bool:
        return self.components is not None

    def transform_cov(self, var: np.ndarray) -> np.ndarray:
        """Diagonal latent covariances [M, D] -> their images on a linear map [M, 2, 2]."""
        if not self.exact:
            raise ValueError(f"{self.method} is not linear: posterior ellipses have no meaning on it.")
        w = self.components  # [2, D]
        return np.einsum("id,md,jd->mij", w, np.asarray(var, np.float32), w)

    def transform(self, z: np.ndarray, k: int = 10) -> np.ndarray:
        """Place new codes [M, D] on the map: [M, 2]."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.codes.shape[1])
        if self.exact:
            return (z - self.center) @ self.components.T
        d = np.linalg.norm(z[:, None, :] - self.codes[None, :, :], axis=-1)
        idx = np.argsort(d, axis=1)[:, :k]
        w = 1.0 / (np.take_along_axis(d, idx, 1) + 1e-6)
        return (self.embedding[idx] * w[..., None]).sum(1) / w.sum(1, keepdims=True)


def fit_projection(
    codes: np.ndarray, method: str, params: dict | None = None, seed: int = 0, native_dims: tuple[int, int] = (0, 1)
) -> Projection:
    """Fit one method to codes [N, D]. `native_dims` picks the two axes shown when D > 2."""
    if method not in METHODS:
        raise ValueError(f"Unknown projection {method!r}: choose one of {', '.join(METHODS)}.")
    params = {**DEFAULT_PARAMS[method], **(params or {})}
    codes = np.asarray(codes, dtype=np.float32)
    d = codes.shape[1]
    if method == "native" or (method == "pca" and d <= 2):
        dims = native_dims if d >= 2 else (0, 0)
        comps = np.zeros((2, d), np.float32)
        comps[0, dims[0]] = comps[1, dims[1]] = 1.0
        labels = (f"z{dims[0] + 1}", f"z{dims[1] + 1}")
        return Projection(method, params, codes @ comps.T, codes, np.zeros(d, np.float32), comps, labels)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(codes)
        ev = pca.explained_variance_ratio_ * 100
        labels = (f"PC1 ({ev[0]:.0f}%)", f"PC2 ({ev[1]:.0f}%)")
        return Projection(
            method,
            params,
            pca.transform(codes).astype(np.float32),
            codes,
            pca.mean_.astype(np.float32),
            pca.components_.astype(np.float32),
            labels,
        )
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(float(params["perplexity"]), (len(codes) - 1) / 3)
        emb = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)
        return Projection(method, params, emb.astype(np.float32), codes, axis_labels=("t-SNE 1", "t-SNE 2"))
    import umap  # umap-learn; its first call compiles with numba (seconds)

    n_neighbors = int(min(params["n_neighbors"], len(codes) - 1))
    reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=float(params["min_dist"]), random_state=seed, n_jobs=1)
    emb = reducer.fit_transform(codes)
    return Projection(method, params, emb.astype(np.float32), codes, axis_labels=("UMAP 1", "UMAP 2"))


def file_digest(path) -> str:
    """Content hash of a checkpoint: the cache key survives copies and ignores mtimes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_path(checkpoint, data_key: str, method: str, params: dict) -> Path:
    checkpoint = Path(checkpoint)
    spec = json.dumps({"data": data_key, "method": method, "params": params}, sort_keys=True)
    key = hashlib.sha256((file_digest(checkpoint) + spec).encode()).hexdigest()[:16]
    return checkpoint.parent / "projections" / f"{checkpoint.stem}-{method}-{key}.npz"


def load_cached(path: Path, codes: np.ndarray, method: str, params: dict) -> Projection | None:
    """The stored embedding, if present, readable and made for these codes."""
    try:
        with np.load(path, allow_pickle=False) as f:
            emb, labels = f["embedding"], tuple(str(s) for s in f["axis_labels"])
            center = f["center"] if "center" in f else None
            comps = f["components"] if "components" in f else None
    except (OSError, KeyError, ValueError):
        return None
    if emb.shape != (len(codes), 2):
        return None
    return Projection(method, params, emb, np.asarray(codes, np.float32), center, comps, labels)


def save_cached(path: Path, proj: Projection) -> None:
    """Atomic write, so two sessions fitting the same map never leave a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"embedding": proj.embedding, "axis_labels": np.array(proj.axis_labels)}
    if proj.exact:
        arrays.update(center=proj.center, components=proj.components)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a checkpoint is a shareable file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def project(
    codes: np.ndarray,
    method: str,
    params: dict | None = None,
    checkpoint=None,
    data_key: str = "",
    seed: int = 0,
    native_dims: tuple[int, int] = (0, 1),
) -> Projection:
    """fit_projection with an on-disk cache beside `checkpoint` (when given and writable)."""
    params = {**DEFAULT_PARAMS.get(method, {}), **(params or {})}
    if checkpoint is None or method in ("native", "pca"):  # cheap: never worth a file
        return fit_projection(codes, method, params, seed, native_dims)
    path = cache_path(checkpoint, f"{data_key}|seed={seed}", method, params)
    cached = load_cached(path, codes, method, params)
    if cached is not None:
        return cached
    proj = fit_projection(codes, method, params, seed, native_dims)
    try:
        save_cached(path, proj)
    except OSError:
        pass  # a read-only install still works, it just refits next time
    return proj
