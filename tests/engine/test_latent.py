import numpy as np
import pytest
import torch

from vae_core.analysis import latent
from vae_core.analysis.projection import METHODS, fit_projection, load_cached, project


def test_lerp_and_slerp_hit_both_ends():
    z0, z1 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 3.0, 0.0])
    for f in (latent.lerp, latent.slerp):
        path = f(z0, z1, 7)
        assert path.shape == (7, 3)
        torch.testing.assert_close(path[0], z0)
        torch.testing.assert_close(path[-1], z1)


def test_slerp_keeps_the_norm_where_lerp_shrinks_it():
    z0, z1 = torch.tensor([4.0, 0.0]), torch.tensor([0.0, 4.0])
    mid_lerp, mid_slerp = latent.lerp(z0, z1, 3)[1], latent.slerp(z0, z1, 3)[1]
    assert mid_lerp.norm() < 3.0 and mid_slerp.norm() == pytest.approx(4.0)


def test_quantile_grid_is_symmetric_prior_quantiles():
    v = latent.grid_values(5, 0.95)
    torch.testing.assert_close(v, -v.flip(0))
    assert v[-1].item() == pytest.approx(1.6449, abs=1e-3)  # Phi^-1(0.95)
    with pytest.raises(ValueError):
        latent.grid_values(5, 1.5)


def test_manifold_grid_varies_only_the_chosen_dims():
    base = torch.arange(4.0)
    z = latent.manifold_grid(base, (1, 3), torch.tensor([-1.0, 0.0, 1.0]))
    assert z.shape == (9, 4)
    assert torch.equal(z[:, 0], torch.zeros(9)) and torch.equal(z[:, 2], torch.full((9,), 2.0))
    assert z[0, 1] == 1.0 and z[-1, 1] == -1.0  # top row is the high value


def test_dimension_order_puts_informative_units_first():
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(200, 3, generator=g) * torch.tensor([0.01, 2.0, 0.5])
    logvar = torch.zeros(200, 3)
    assert latent.dimension_order(mean, logvar).tolist() == [1, 2, 0]
    assert latent.dimension_order(mean, torch.full_like(mean, float("-inf"))).tolist() == [1, 2, 0]


def test_nearest_neighbours_finds_itself_first():
    codes = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    idx, dist = latent.nearest_neighbours(codes[7:8], codes, k=3)
    assert idx[0, 0] == 7 and dist[0, 0] == 0


@pytest.mark.parametrize("method", METHODS)
def test_every_projection_maps_codes_and_places_new_points(method):
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(c, 0.3, (60, 5)) for c in (-2, 0, 2)]).astype(np.float32)
    proj = fit_projection(codes, method, {"n_neighbors": 10} if method == "umap" else None)
    assert proj.embedding.shape == (180, 2) and np.isfinite(proj.embedding).all()
    new = proj.transform(codes[:4])
    assert new.shape == (4, 2)
    if proj.exact:
        np.testing.assert_allclose(new, proj.embedding[:4], atol=1e-4)
        assert proj.transform_cov(np.ones((2, 5))).shape == (2, 2, 2)
    else:  # placed at its neighbours: close to where the point itself was embedded
        spread = np.ptp(proj.embedding, axis=0).max()
        assert np.linalg.norm(new - proj.embedding[:4], axis=1).max() < 0.25 * spread


def test_slow_projections_are_cached_on_disk_beside_the_checkpoint(tmp_path, tiny_model):
    import vae_core

    ckpt = vae_core.save_checkpoint(tiny_model(), tmp_path / "m.safetensors")
    codes = np.random.default_rng(0).normal(size=(80, 3)).astype(np.float32)
    cache = tmp_path / "projections"
    first = project(codes, "tsne", {"perplexity": 10.0}, checkpoint=ckpt, data_key="x", cache_dir=cache)
    files = list((tmp_path / "projections").glob("m-tsne-*.npz"))
    assert len(files) == 1
    cached = load_cached(files[0], codes, "tsne", first.params)
    np.testing.assert_array_equal(cached.embedding, first.embedding)
    again = project(codes, "tsne", {"perplexity": 10.0}, checkpoint=ckpt, data_key="x", cache_dir=cache)
    np.testing.assert_array_equal(again.embedding, first.embedding)
    other = project(codes, "tsne", {"perplexity": 12.0}, checkpoint=ckpt, data_key="x", cache_dir=cache)
    assert len(list((tmp_path / "projections").glob("*.npz"))) == 2 and other.params["perplexity"] == 12.0


def test_knn_vote_names_the_majority_class_and_its_share():
    codes = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0], [5.1, 5.0]])
    labels = torch.tensor([2, 2, 1, 7, 7])
    cls, share = latent.knn_vote(torch.tensor([[0.02, 0.02], [5.0, 5.1]]), codes, labels, k=3)
    assert cls.tolist() == [2, 7]
    assert share[0].item() == pytest.approx(2 / 3) and share[1].item() == pytest.approx(2 / 3)
