"""Maps at any size (vae_core.analysis.manifold): PCA in one pass, t-SNE and UMAP fitted on a
subsample with every other code placed by its nearest fitted codes, followed and cancellable."""

import numpy as np
import pytest

from vae_core.analysis import manifold, projection
from vae_core.analysis.cancel import Cancelled


def blobs(n, d=5, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=6, size=(4, d))
    labels = rng.integers(0, 4, n)
    return (centers[labels] + rng.normal(size=(n, d))).astype(np.float32), labels


def test_pca_from_the_covariance_matches_scikit_learn_signs_included():
    from sklearn.decomposition import PCA

    codes, _ = blobs(2000)
    ours = projection.fit_projection(codes, "pca")
    sk = PCA(2).fit(codes)
    assert np.allclose(ours.components, sk.components_, atol=1e-4)
    assert np.allclose(ours.embedding, sk.transform(codes), atol=1e-3)
    assert ours.axis_labels[0] == f"PC1 ({sk.explained_variance_ratio_[0] * 100:.0f}%)"


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_a_big_map_is_fitted_on_a_subsample_and_places_the_rest_by_neighbours(method, monkeypatch):
    monkeypatch.setitem(manifold.FIT_MAX, method, 300)
    codes, labels = blobs(1500)
    stages = []
    params = {"perplexity": 20.0} if method == "tsne" else {"n_neighbors": 10, "min_dist": 0.1}
    proj = projection.fit_projection(codes, method, params, progress=lambda s, d, n: stages.append((s, d, n)))
    assert proj.embedding.shape == (1500, 2) and len(proj.fitted) == 300 and np.isfinite(proj.embedding).all()
    assert stages[-1] == ("place", 1200, 1200) and any(s == "fit" for s, _, _ in stages)
    # a placed code lands among the fitted codes of its own cluster
    rest = np.setdiff1d(np.arange(1500), proj.fitted)
    centroids = np.stack([proj.embedding[proj.fitted][labels[proj.fitted] == c].mean(0) for c in range(4)])
    nearest = np.argmin(((proj.embedding[rest, None] - centroids[None]) ** 2).sum(-1), 1)
    assert (nearest == labels[rest]).mean() > 0.95
    assert np.allclose(proj.transform(codes[proj.fitted[:5]]), proj.embedding[proj.fitted[:5]], atol=1e-3)


def test_a_tsne_fit_reports_its_iterations_and_stops_when_asked():
    codes, _ = blobs(400)
    seen = []

    def stop():
        return len(seen) > 3

    with pytest.raises(Cancelled):
        manifold.fit_tsne(codes, 30.0, 0, lambda s, d, n: seen.append((d, n)), stop)
    assert seen[0] == (0, sum(manifold.TSNE_ITERS)) and 0 < seen[-1][0] < sum(manifold.TSNE_ITERS)


def test_a_cancelled_fit_writes_no_map(tmp_path, tiny_model):
    import vae_core

    ckpt = vae_core.save_checkpoint(tiny_model(), tmp_path / "m.safetensors")
    codes, _ = blobs(300)
    with pytest.raises(Cancelled):
        projection.project(codes, "tsne", {}, ckpt, "d", cache_dir=tmp_path / "maps", should_stop=lambda: True)
    assert not list((tmp_path / "maps").glob("*.npz"))


def test_subsampled_maps_are_stored_with_their_subsample_under_their_own_key(tmp_path, tiny_model, monkeypatch):
    import vae_core

    monkeypatch.setitem(manifold.FIT_MAX, "umap", 200)
    ckpt = vae_core.save_checkpoint(tiny_model(), tmp_path / "m.safetensors")
    codes, _ = blobs(600)
    a = projection.project(codes, "umap", {"n_neighbors": 5}, ckpt, "d", cache_dir=tmp_path / "maps")
    b = projection.lookup(codes, "umap", {"n_neighbors": 5}, ckpt, "d", cache_dir=tmp_path / "maps")
    assert b is not None and np.array_equal(a.embedding, b.embedding) and np.array_equal(a.fitted, b.fitted)
    monkeypatch.setitem(manifold.FIT_MAX, "umap", 100)  # another rule: another map
    assert projection.lookup(codes, "umap", {"n_neighbors": 5}, ckpt, "d", cache_dir=tmp_path / "maps") is None
