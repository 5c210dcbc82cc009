"""2-D maps of latent codes: native, PCA, t-SNE, UMAP — fitted once, cached on disk.

Follows scikit-learn's fit/transform split: a Projection is fitted to the dataset's codes
and places new codes (an upload, an interpolation path) on the same map. Native and PCA are
linear and place new points exactly. t-SNE has no transform at all (van der Maaten, 2014)
and UMAP's transform needs the fitted object, which we do not pickle; both place new points
at the distance-weighted mean of their nearest fitted codes, and say so (`exact` is False).
Embeddings are stored as .npz (no pickle) keyed by the checkpoint's content hash, the data,
the parameters and the library versions (vae_core.io.projection_cache): shipped maps beside the
checkpoint are read only; the app's own maps go to a `cache_dir` it passes, bounded in size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io.projection_cache import CACHE_LIMIT_BYTES, cache_name, evict, read_map, touch, write_map

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

    def lift(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Map coordinates back to codes: (center [D], components [2, D]) with z = center + xy @ components,
        or None where the map has no inverse (t-SNE, UMAP).

        PCA: the fitted plane through the data mean, so the lift inverts the projection on its plane.
        Native: the two dimensions shown, every other one at the codes' mean (where the decoder has
        seen codes; for a VAE's inactive units that is the prior's 0 anyway)."""
        if not self.exact:
            return None
        components = np.asarray(self.components, np.float32)
        center = np.asarray(self.center, np.float32).copy()
        if self.method == "native" or (self.method == "pca" and self.codes.shape[1] <= 2):
            shown = np.abs(components).sum(0) > 0
            center = np.where(shown, 0.0, self.codes.mean(0)).astype(np.float32)
        return center, components

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


def cache_path(checkpoint, data_key: str, method: str, params: dict, folder=None) -> Path:
    """Where a map is looked for: `folder`, or the shipped maps beside the checkpoint."""
    checkpoint = Path(checkpoint)
    folder = Path(folder) if folder is not None else checkpoint.parent / "projections"
    return folder / cache_name(checkpoint, data_key, method, params)


def load_cached(path: Path, codes: np.ndarray, method: str, params: dict) -> Projection | None:
    """The stored embedding, if present, readable and made for these codes; None otherwise."""
    codes = np.asarray(codes, np.float32)
    a = read_map(Path(path), len(codes), codes.shape[1])
    if a is None:
        return None
    labels = tuple(str(s) for s in a["axis_labels"])
    emb = a["embedding"].astype(np.float32)
    return Projection(method, params, emb, codes, a.get("center"), a.get("components"), labels)


def save_cached(path: Path, proj: Projection) -> None:
    arrays = {"embedding": proj.embedding, "axis_labels": np.array(proj.axis_labels)}
    if proj.exact:
        arrays.update(center=proj.center, components=proj.components)
    write_map(Path(path), arrays)


def lookup(codes, method: str, params: dict | None, checkpoint, data_key: str = "", seed: int = 0, cache_dir=None):
    """The stored t-SNE or UMAP map for these codes (shipped, then the caller's cache), or None:
    what `project` would return without fitting. An unusable file of the caller's is removed."""
    params = {**DEFAULT_PARAMS.get(method, {}), **(params or {})}
    key = f"{data_key}|seed={seed}"
    shipped = cache_path(checkpoint, key, method, params)
    found = load_cached(shipped, codes, method, params)
    if found is not None or cache_dir is None:
        return found
    mine = cache_path(checkpoint, key, method, params, cache_dir)
    if mine == shipped:
        return None
    found = load_cached(mine, codes, method, params)
    if found is not None:
        touch(mine)
    else:
        mine.unlink(missing_ok=True)  # absent, or ours and unusable: to be recomputed
    return found


def project(
    codes: np.ndarray,
    method: str,
    params: dict | None = None,
    checkpoint=None,
    data_key: str = "",
    seed: int = 0,
    native_dims: tuple[int, int] = (0, 1),
    cache_dir=None,
    cache_limit: int | None = CACHE_LIMIT_BYTES,
) -> Projection:
    """fit_projection, with t-SNE and UMAP maps looked up on disk first.

    Shipped maps are read from <checkpoint dir>/projections/ and never written. `cache_dir`
    (None: no writes at all) holds the caller's own maps: read, written, kept under
    `cache_limit` bytes (None: no cap) by evicting the least recently used; an unreadable file
    there is removed and the map recomputed. Nothing here raises because of a file on disk.
    """
    params = {**DEFAULT_PARAMS.get(method, {}), **(params or {})}
    if checkpoint is None or method in ("native", "pca"):  # cheap: never worth a file
        return fit_projection(codes, method, params, seed, native_dims)
    found = lookup(codes, method, params, checkpoint, data_key, seed, cache_dir)
    if found is not None:
        return found
    key = f"{data_key}|seed={seed}"
    mine = cache_path(checkpoint, key, method, params, cache_dir) if cache_dir is not None else None
    proj = fit_projection(codes, method, params, seed, native_dims)
    if mine is not None:
        try:
            save_cached(mine, proj)
            evict(mine.parent, cache_limit, keep=mine)
        except OSError:
            pass  # a read-only or full disk still works, it just refits next time
    return proj


METHODS_3D = ("native", "pca", "umap")


def embed_3d(codes: np.ndarray, method: str, native_dims=(0, 1, 2), seed: int = 0) -> tuple[np.ndarray, tuple]:
    """Codes [N, D] -> ([N, 3] positions, axis labels) for a 3-D view: the three native axes
    `native_dims` (D >= 3), PCA's first three components, or UMAP with three components."""
    codes = np.asarray(codes, dtype=np.float32)
    n, d = codes.shape
    if method not in METHODS_3D:
        raise ValueError(f"Unknown 3-D view {method!r}: choose one of {', '.join(METHODS_3D)}.")
    if d < 3:
        raise ValueError(f"A 3-D view needs at least 3 latent dimensions; this model has {d}.")
    if method == "native":
        dims = tuple(int(i) for i in native_dims)
        return codes[:, dims], tuple(f"z{i + 1}" for i in dims)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=3, random_state=seed).fit(codes)
        ev = pca.explained_variance_ratio_ * 100
        return pca.transform(codes).astype(np.float32), tuple(f"PC{k + 1} ({ev[k]:.0f}%)" for k in range(3))
    import umap

    reducer = umap.UMAP(n_components=3, n_neighbors=min(15, n - 1), random_state=seed, n_jobs=1)
    return reducer.fit_transform(codes).astype(np.float32), ("UMAP 1", "UMAP 2", "UMAP 3")
