"""The aggregate posterior's density: KDE widths, blockwise and grid evaluation, against references."""

import math

import numpy as np
import pytest
import torch

from vae_core.analysis import density


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_scotts_rule_matches_scikit_learns_kde_on_standardised_codes():
    from sklearn.neighbors import KernelDensity

    codes = torch.randn(300, 2, generator=gen(), dtype=torch.float64) * torch.tensor([3.0, 0.5]) + 1
    z = torch.randn(20, 2, generator=gen(1), dtype=torch.float64) * 2
    ours = density.log_mixture(z, *density.mixture_of(codes, torch.full_like(codes, float("-inf")), "scott"))
    std = codes.std(0)
    kde = KernelDensity(bandwidth=density.scott_factor(300, 2)).fit((codes / std).numpy())
    ref = kde.score_samples((z / std).numpy()) - std.log().sum().item()
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-6)


def test_cross_validated_and_adaptive_widths():
    codes = torch.randn(3000, 2, generator=gen(), dtype=torch.float64)
    h = density.kde_factor(codes, "cv")
    assert h in density.KDE_FACTORS and 0.5 < h / density.scott_factor(3000, 2) < 2  # Gaussian data: near Scott
    assert density.kde_factor(codes, 0.3) == 0.3
    with pytest.raises(ValueError, match="Unknown bandwidth rule"):
        density.kde_factor(codes, "silverman")
    with pytest.raises(ValueError, match=r"\(0, 100\)"):
        density.kde_factor(codes, -1.0)
    hs = density.kde_bandwidths(codes)
    radius = codes.norm(dim=1)
    assert hs[radius < 0.5].max() < hs[radius > 2.5].min()  # narrow in the dense middle, wide in the tails
    assert hs.log().mean().exp().item() == pytest.approx(h)  # the pilot's width on (geometric) average
    torch.testing.assert_close(
        density.kde_bandwidths(codes, "scott"), torch.full((3000,), density.scott_factor(3000, 2), dtype=torch.float64)
    )


def test_a_subsampled_pilot_keeps_lone_codes_finite(monkeypatch):
    monkeypatch.setattr(density, "PILOT_CENTRES", 100)
    lone = torch.stack([torch.arange(10.0) * 8 + 40, torch.zeros(10)], 1).double()  # each far from all others
    codes = torch.cat([torch.randn(990, 2, generator=gen(), dtype=torch.float64), lone])
    hs = density.kde_bandwidths(codes)
    assert torch.isfinite(hs).all() and hs[-10:].min() > hs[:990].median()  # far codes get wide kernels...
    assert hs.max() / hs.min() < 10  # ...but not the near-infinite ones a pilot density of 0 would give


def test_grid_evaluation_equals_pointwise_even_where_it_underflows():
    g = gen()
    mean = torch.tensor([[-3.0, -3.0], [3.0, 3.0], [0.0, 2.0]], dtype=torch.float64)
    logvar = torch.full((3, 2), 2 * math.log(0.05), dtype=torch.float64)  # narrow: most cells underflow per axis
    xs, ys = torch.linspace(-4, 4, 33, dtype=torch.float64), torch.linspace(-4, 5, 29, dtype=torch.float64)
    grid = density.log_mixture_grid(xs, ys, mean, logvar)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    pointwise = density.log_mixture(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1), mean, logvar).reshape(29, 33)
    torch.testing.assert_close(grid, pointwise, rtol=1e-6, atol=1e-6)
    mean2, logvar2 = torch.randn(500, 2, generator=g, dtype=torch.float64), torch.randn(500, 2, generator=g) - 2
    grid2 = density.log_mixture_grid(xs, ys, mean2, logvar2)
    point2 = density.log_mixture(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1), mean2, logvar2).reshape(29, 33)
    torch.testing.assert_close(grid2, point2, rtol=1e-6, atol=1e-6)


def test_blocks_do_not_change_the_result(monkeypatch):
    mean, logvar = torch.randn(50, 3, generator=gen()), torch.randn(50, 3, generator=gen(1))
    z = torch.randn(40, 3, generator=gen(2))
    whole = density.log_mixture(z, mean, logvar)
    monkeypatch.setattr(density, "BLOCK_ELEMENTS", 120)  # 2 points per block
    torch.testing.assert_close(density.log_mixture(z, mean, logvar), whole)
