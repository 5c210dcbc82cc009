"""The fits behind the maps, at any size: PCA in one pass, t-SNE and UMAP on a subsample.

- PCA from the codes' D x D covariance (one pass over a million codes takes a fraction of a
  second), with scikit-learn's sign convention (each component's largest entry positive) so a
  map does not flip between versions.
- t-SNE and UMAP are fitted on a fixed random subsample of at most FIT_MAX codes (seeded;
  every code when there are fewer) and every other code is placed at the distance-weighted mean
  of the map positions of its K nearest fitted codes in latent space (the same rule
  Projection.transform uses for an upload). A t-SNE of 54,000 codes took 13 minutes here; of
  10,000, about one (openTSNE, FFT-accelerated, Poličar et al. 2024), and placing a million
  more about as long again. t-SNE runs openTSNE when it is installed (its callbacks report
  each iteration and can stop it), else scikit-learn.

progress(stage, done, total) reports "fit" (t-SNE iterations; UMAP reports 0 then total) and
"place" (codes placed); should_stop() is asked between steps and raises Cancelled.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .cancel import Cancelled

FIT_MAX = {"tsne": 10_000, "umap": 20_000}  # codes a t-SNE / UMAP is fitted on; the rest are placed
K_PLACE = 10  # nearest fitted codes that place every other code
PLACE_CHUNK = 16_384  # codes placed per step (progress and cancel between steps)
TSNE_ITERS = (250, 500)  # openTSNE's early-exaggeration and final phases (its defaults)

Progress = Callable[[str, int, int], None]
Stop = Callable[[], bool]


def pca(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(center [D], components [2, D], explained variance ratio [2]) of codes [N, D]."""
    x = np.asarray(codes, np.float64)
    center = x.mean(0)
    cov = np.cov(x, rowvar=False, bias=False).reshape(x.shape[1], x.shape[1])
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:2]
    comps = vecs[:, order].T
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(1)])  # scikit-learn's svd_flip
    comps = comps * np.where(signs == 0, 1, signs)[:, None]
    ratio = vals[order] / max(vals.sum(), 1e-30)
    return center.astype(np.float32), comps.astype(np.float32), ratio


def subsample_spec(method: str, n: int) -> str:
    """How a map of n codes is fitted when it is not fitted on all of them ("" when it is): part of
    its cache key, so a change of the subsample or the placement rule is a new map."""
    most = FIT_MAX.get(method)
    return f"sub{most}/knn{K_PLACE}" if most is not None and n > most else ""


def subsample(n: int, most: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of the fitted codes: all of them, or a fixed random `most` of them."""
    if n <= most:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, most, replace=False))


def fit_tsne(x: np.ndarray, perplexity: float, seed: int, progress: Progress, should_stop: Stop) -> np.ndarray:
    """t-SNE positions [n, 2] of codes x, following and stoppable between iterations (openTSNE)."""
    perplexity = min(float(perplexity), (len(x) - 1) / 3)
    try:
        from openTSNE import TSNE
    except ImportError:  # scikit-learn's: no progress, stopped only after it finishes
        from sklearn.manifold import TSNE as SkTSNE

        progress("fit", 0, 1)
        emb = SkTSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
        _check(should_stop)
        return emb.astype(np.float32)
    total, done, stopped = sum(TSNE_ITERS), [0], [False]

    def callback(iteration, error, embedding):
        done[0] += 10
        progress("fit", min(done[0], total), total)
        stopped[0] = bool(should_stop())
        return stopped[0]

    progress("fit", 0, total)
    tsne = TSNE(
        perplexity=perplexity,
        early_exaggeration_iter=TSNE_ITERS[0],
        n_iter=TSNE_ITERS[1],
        n_jobs=2,
        random_state=seed,
        callbacks=callback,
        callbacks_every_iters=10,
    )
    emb = np.asarray(tsne.fit(x), np.float32)
    if stopped[0]:
        raise Cancelled("t-SNE stopped")
    return emb


def fit_umap(x: np.ndarray, n_neighbors: int, min_dist: float, seed: int, progress: Progress, should_stop: Stop):
    import umap  # umap-learn; its first call compiles with numba (seconds)

    progress("fit", 0, 1)
    reducer = umap.UMAP(
        n_neighbors=int(min(n_neighbors, len(x) - 1)), min_dist=float(min_dist), random_state=seed, n_jobs=1
    )
    emb = reducer.fit_transform(x).astype(np.float32)
    _check(should_stop)  # umap-learn cannot be interrupted: a cancel takes effect here
    progress("fit", 1, 1)
    return emb


def place(codes: np.ndarray, anchors: np.ndarray, anchor_xy: np.ndarray, progress: Progress, should_stop: Stop):
    """Map positions [N, 2] of codes: the inverse-distance-weighted mean of the positions of their
    K_PLACE nearest anchors (exact neighbours, scikit-learn's brute-force reduction)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(K_PLACE, len(anchors))
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(anchors)
    out = np.empty((len(codes), 2), np.float32)
    for a in range(0, len(codes), PLACE_CHUNK):
        _check(should_stop)
        dist, idx = nn.kneighbors(codes[a : a + PLACE_CHUNK])
        w = 1.0 / (dist + 1e-6)
        out[a : a + len(idx)] = (anchor_xy[idx] * w[..., None]).sum(1) / w.sum(1, keepdims=True)
        progress("place", min(a + PLACE_CHUNK, len(codes)), len(codes))
    return out


def fit_subsampled(codes, method: str, params: dict, seed: int, progress: Progress, should_stop: Stop):
    """(positions [N, 2], fitted indices): `method` fitted on a subsample, every other code placed."""
    fitted = subsample(len(codes), FIT_MAX[method], seed)
    x = codes[fitted]
    if method == "tsne":
        emb = fit_tsne(x, params["perplexity"], seed, progress, should_stop)
    else:
        emb = fit_umap(x, params["n_neighbors"], params["min_dist"], seed, progress, should_stop)
    if len(fitted) == len(codes):
        return emb, fitted
    rest = np.setdiff1d(np.arange(len(codes)), fitted, assume_unique=True)
    out = np.empty((len(codes), 2), np.float32)
    out[fitted] = emb
    out[rest] = place(codes[rest], x, emb, progress, should_stop)
    return out, fitted


def _check(should_stop: Stop) -> None:
    if should_stop():
        raise Cancelled("stopped")
