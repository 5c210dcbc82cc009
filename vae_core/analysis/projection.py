"""2-D maps of latent codes: native, PCA, t-SNE, UMAP — fitted once, cached on disk.

Follows scikit-learn's fit/transform split: a Projection is fitted to the dataset's codes
and places new codes (an upload, an interpolation path) on the same map. Native and PCA are
linear and place new points exactly. t-SNE has no transform at all (van der Maaten, 2014)
and UMAP's transform needs the fitted object, which we do not pickle; both place new points
at the distance-weighted mean of their nearest fitted codes, and say so (`exact` is False).
Above a size they are fitted on a subsample and every other code is placed the same way
(vae_core.analysis.manifold: the sizes, the rule, progress and cancel).
Embeddings are stored as .npz (no pickle) keyed by the checkpoint's content hash, the data,
the parameters and the library versions (vae_core.io.projection_cache): shipped maps beside the
checkpoint are read only; the app's own maps go to a `cache_dir` it passes, bounded in size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io.projection_cache import CACHE_LIMIT_BYTES, cache_name, evict, read_map, touch, write_map
from . import manifold

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
    fitted: np.ndarray | None = None  # t-SNE / UMAP fitted on these codes only (None: on all of them)

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

    def transform(self, z: np.ndarray) -> np.ndarray:
        """Place new codes [M, D] on the map: [M, 2] (t-SNE / UMAP: by their nearest fitted codes)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.codes.shape[1])
        if self.exact:
            return (z - self.center) @ self.components.T
        anchors = np.arange(len(self.codes)) if self.fitted is None else self.fitted
        never = lambda: False  # noqa: E731 - a few new points: nothing to follow or stop
        return manifold.place(z, self.codes[anchors], self.embedding[anchors], lambda *a: None, never)


def fit_projection(
    codes: np.ndarray,
    method: str,
    params: dict | None = None,
    seed: int = 0,
    native_dims: tuple[int, int] = (0, 1),
    progress: manifold.Progress | None = None,
    should_stop: manifold.Stop | None = None,
) -> Projection:
    """Fit one method to codes [N, D]. `native_dims` picks the two axes shown when D > 2.
    progress and should_stop follow and stop a t-SNE or UMAP fit (vae_core.analysis.manifold)."""
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
        center, comps, ratio = manifold.pca(codes)
        labels = (f"PC1 ({ratio[0] * 100:.0f}%)", f"PC2 ({ratio[1] * 100:.0f}%)")
        return Projection(method, params, (codes - center) @ comps.T, codes, center, comps, labels)
    progress = progress or (lambda *a: None)
    should_stop = should_stop or (lambda: False)
    emb, fitted = manifold.fit_subsampled(codes, method, params, seed, progress, should_stop)
    name = "t-SNE" if method == "tsne" else "UMAP"
    return Projection(method, params, emb, codes, axis_labels=(f"{name} 1", f"{name} 2"), fitted=_fitted(fitted, codes))


def _fitted(fitted: np.ndarray, codes: np.ndarray) -> np.ndarray | None:
    return None if len(fitted) == len(codes) else fitted


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
    fitted = a["fitted"].astype(np.int64) if "fitted" in a else None
    return Projection(method, params, emb, codes, a.get("center"), a.get("components"), labels, fitted)


def save_cached(path: Path, proj: Projection) -> None:
    arrays = {"embedding": proj.embedding, "axis_labels": np.array(proj.axis_labels)}
    if proj.exact:
        arrays.update(center=proj.center, components=proj.components)
    if proj.fitted is not None:
        arrays["fitted"] = np.asarray(proj.fitted, np.int64)
    write_map(Path(path), arrays)


def _keys(data_key: str, seed: int, method: str, n: int) -> tuple[str, ...]:
    """Keys a map of n codes is looked up under, best first: a fit of all the codes (shipped ones
    are), then, above manifold.FIT_MAX, the subsampled fit this module makes (the key names it)."""
    full = f"{data_key}|seed={seed}"
    sub = manifold.subsample_spec(method, n)
    return (full, f"{full}|{sub}") if sub else (full,)


def lookup(codes, method: str, params: dict | None, checkpoint, data_key: str = "", seed: int = 0, cache_dir=None):
    """The stored t-SNE or UMAP map for these codes (shipped, then the caller's cache), or None:
    what `project` would return without fitting. An unusable file of the caller's is removed."""
    params = {**DEFAULT_PARAMS.get(method, {}), **(params or {})}
    keys = _keys(data_key, seed, method, len(codes))
    folders = [None] if cache_dir is None else [None, cache_dir]
    for folder in folders:
        for key in keys:
            path = cache_path(checkpoint, key, method, params, folder)
            read = _identity(path)
            found = load_cached(path, codes, method, params) if read else None
            if found is not None:
                if folder is not None:
                    touch(path)
                return found
            if read and folder is not None and path != cache_path(checkpoint, key, method, params):
                _remove_if_same(path, read)  # ours and unusable: to be recomputed
    return None


def _identity(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _remove_if_same(path: Path, read: tuple) -> None:
    """Remove the unusable file that was read, never one a fit wrote over it meanwhile (a page's
    lookup that found nothing once deleted the map a background fit had just stored, and the
    next run fitted it again in the page)."""
    if _identity(path) == read:
        path.unlink(missing_ok=True)


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
    progress: manifold.Progress | None = None,
    should_stop: manifold.Stop | None = None,
) -> Projection:
    """fit_projection, with t-SNE and UMAP maps looked up on disk first.

    Shipped maps are read from <checkpoint dir>/projections/ and never written. `cache_dir`
    (None: no writes at all) holds the caller's own maps: read, written, kept under
    `cache_limit` bytes (None: no cap) by evicting the least recently used; an unreadable file
    there is removed and the map recomputed. Nothing here raises because of a file on disk.
    A stopped fit (should_stop) raises manifold's Cancelled and writes nothing.
    """
    params = {**DEFAULT_PARAMS.get(method, {}), **(params or {})}
    if checkpoint is None or method in ("native", "pca"):  # cheap: never worth a file
        return fit_projection(codes, method, params, seed, native_dims, progress, should_stop)
    found = lookup(codes, method, params, checkpoint, data_key, seed, cache_dir)
    if found is not None:
        return found
    my_key = _keys(data_key, seed, method, len(codes))[-1]
    mine = cache_path(checkpoint, my_key, method, params, cache_dir) if cache_dir is not None else None
    proj = fit_projection(codes, method, params, seed, native_dims, progress, should_stop)
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
