"""Ex-post samplers: they recover the density they were fitted to, draw reproducibly, and cache
safely (no pickle, keyed by content and settings, a damaged file is refitted)."""

import numpy as np
import pytest
import torch

from vae_core.analysis import samplers
from vae_core.analysis.samplers import DensitySampler, SamplerSettings, cache_path, cached_sampler, fit_sampler


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def checkpoint(tmp_path, tiny_model):
    import vae_core

    return vae_core.save_checkpoint(tiny_model(), tmp_path / "model.safetensors")


def three_clusters(n=600):
    g = gen()
    centres = torch.tensor([[-5.0, 0.0], [5.0, 0.0], [0.0, 6.0]])
    labels = torch.arange(n) % 3
    labels[: n // 3] = 0  # weights 1/2, 1/4, 1/4 (roughly)
    return centres[labels] + 0.3 * torch.randn(n, 2, generator=g), labels


def test_gaussian_recovers_mean_and_full_covariance():
    cov = torch.tensor([[4.0, 1.5], [1.5, 1.0]])
    x = torch.randn(20_000, 2, generator=gen()) @ torch.linalg.cholesky(cov).T + torch.tensor([1.0, -2.0])
    s = fit_sampler(x, SamplerSettings("gaussian"))
    assert s.weights.tolist() == [1.0]
    np.testing.assert_allclose(s.means[0], [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(s.covariances[0], cov.numpy(), atol=0.1)
    drawn = s.sample(20_000, gen(1))
    np.testing.assert_allclose(np.cov(drawn.numpy(), rowvar=False), cov.numpy(), atol=0.15)


def test_mixture_finds_the_clusters_and_their_weights():
    x, labels = three_clusters()
    s = fit_sampler(x, SamplerSettings("gmm", n_components=3))
    order = np.argsort(s.means[:, 0] + 10 * s.means[:, 1])  # left, right, top
    np.testing.assert_allclose(s.means[order], [[-5, 0], [5, 0], [0, 6]], atol=0.1)
    expected = torch.bincount(labels).double() / len(labels)
    np.testing.assert_allclose(s.weights[order], expected.numpy(), atol=0.01)
    z = s.sample(3000, gen())
    assert ((z[:, 1] > 3).double().mean() - expected[2]).abs() < 0.03


def test_sampling_is_reproducible_with_a_generator_and_log_prob_is_a_density():
    x, _ = three_clusters()
    s = fit_sampler(x, SamplerSettings("gmm", n_components=3))
    assert torch.equal(s.sample(100, gen(5)), s.sample(100, gen(5)))
    assert not torch.equal(s.sample(100, gen(5)), s.sample(100, gen(6)))
    xs = torch.linspace(-12, 12, 241)
    grid = torch.cartesian_prod(xs, xs)
    mass = s.log_prob(grid).exp().sum() * (xs[1] - xs[0]) ** 2
    assert mass.item() == pytest.approx(1.0, abs=0.01)


def test_bad_inputs_give_one_clear_error():
    with pytest.raises(ValueError, match="Unknown sampler"):
        SamplerSettings("flow")
    with pytest.raises(ValueError, match="N >= 10"):
        fit_sampler(torch.zeros(5, 2), SamplerSettings("gmm"))
    with pytest.raises(ValueError, match="finite"):
        fit_sampler(torch.tensor([[0.0, float("nan")]] * 20), SamplerSettings("gaussian"))
    with pytest.raises(ValueError, match="positive definite"):
        DensitySampler(np.ones(1), np.zeros((1, 2)), -np.eye(2)[None])
    with pytest.raises(ValueError, match="sum to 1"):
        DensitySampler(np.ones(2), np.zeros((2, 2)), np.stack([np.eye(2)] * 2))


def test_cache_is_npz_without_pickle_and_a_hit_does_not_refit(tmp_path, checkpoint, monkeypatch):
    x, _ = three_clusters()
    settings = SamplerSettings("gmm", n_components=3, data="toy/train")
    first = cached_sampler(checkpoint, x, settings, tmp_path / "cache")
    path = cache_path(checkpoint, settings, tmp_path / "cache", len(x))
    assert path.is_file() and path.suffix == ".npz"
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == ["covariances", "means", "weights"]

    def no_fit(*a, **k):
        raise AssertionError("refitted despite a cached sampler")

    monkeypatch.setattr(samplers, "fit_sampler", no_fit)
    again = cached_sampler(checkpoint, x, settings, tmp_path / "cache")
    np.testing.assert_array_equal(again.means, first.means)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [path.name]  # no temporary files


def test_cache_key_follows_content_settings_data_and_sklearn_version(tmp_path, checkpoint, monkeypatch):
    base = SamplerSettings("gmm", data="mnist5k/train")
    key = cache_path(checkpoint, base, tmp_path, 4500)
    assert cache_path(checkpoint, SamplerSettings("gmm", data="mnist5k/train"), tmp_path, 4500) == key
    assert cache_path(checkpoint, SamplerSettings("gmm", n_components=5, data="mnist5k/train"), tmp_path, 4500) != key
    assert cache_path(checkpoint, SamplerSettings("gmm", data="fashion/train"), tmp_path, 4500) != key
    assert cache_path(checkpoint, base, tmp_path, 4499) != key
    copy = tmp_path / "renamed.safetensors"
    copy.write_bytes(checkpoint.read_bytes())
    assert cache_path(copy, base, tmp_path, 4500).name.split("-")[-1] == key.name.split("-")[-1]  # content, not name
    import sklearn

    monkeypatch.setattr(sklearn, "__version__", "0.0.1")
    assert cache_path(checkpoint, base, tmp_path, 4500) != key


def test_a_damaged_cache_file_is_refitted_and_replaced(tmp_path, checkpoint):
    x, _ = three_clusters()
    settings = SamplerSettings("gaussian")
    path = cache_path(checkpoint, settings, tmp_path, len(x))
    for junk in (b"not an npz at all", b"PK\x03\x04 truncated zip"):
        path.write_bytes(junk)
        s = cached_sampler(checkpoint, x, settings, tmp_path)
        assert s.means.shape == (1, 2)
        assert DensitySampler.load(path).means.shape == (1, 2)
    np.savez(path, weights=np.ones(1), means=np.zeros((1, 2)), covariances=np.full((1, 2, 2), np.nan))
    assert np.isfinite(cached_sampler(checkpoint, x, settings, tmp_path).covariances).all()


def test_an_unwritable_cache_folder_only_costs_a_refit(tmp_path, checkpoint):
    x, _ = three_clusters()
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    s = cached_sampler(checkpoint, x, SamplerSettings("gaussian"), blocker / "cache")
    assert s.means.shape == (1, 2)
