"""Prior holes through K-component mixtures: each K's share against closed forms, its floor, and K
chosen by held-out likelihood."""

import math

import pytest
import torch
from scipy.stats import chi2

from vae_core.analysis.mixture_holes import holes_over_k


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def points(codes):
    return codes, torch.full_like(codes, float("-inf"))  # an autoencoder's codes: the draws are the codes


def narrow_gaussian_share(var: float, d: int) -> float:
    """Prior mass where N(0, var I) < N(0, I)/10 (var < 1): a chi² tail,
    |z|² > 2 (-D/2 log var + log 10) / (1/var - 1)."""
    return float(chi2.sf(2 * (-d / 2 * math.log(var) + math.log(10)) / (1 / var - 1), d))


def test_one_gaussian_gives_the_closed_form_share():
    result = holes_over_k(*points(torch.randn(20_000, 2, generator=gen()) * 0.5), gen(1), ks=[1], n_samples=8000)
    row = result.at(1)
    assert row.share == pytest.approx(narrow_gaussian_share(0.25, 2), abs=4 * row.se + 0.01)
    assert result.one_gaussian is row and row.floor < 0.01  # one Gaussian fitted to prior draws is the prior


def test_posterior_widths_are_part_of_q():
    # posteriors N(mu_i, sigma²) with Var(mu) + sigma² = 1: q is the prior, whatever the split of the variance
    mean = torch.randn(6000, 3, generator=gen()) * math.sqrt(0.3)
    logvar = torch.full_like(mean, math.log(0.7))
    assert holes_over_k(mean, logvar, gen(1), ks=[1]).at(1).share < 0.02
    means_only = holes_over_k(mean, torch.full_like(mean, -20.0), gen(1), ks=[1]).at(1)
    assert means_only.share == pytest.approx(narrow_gaussian_share(0.3, 3), abs=4 * means_only.se + 0.01)


def test_held_out_likelihood_chooses_the_clusters_and_reports_its_sensitivity():
    g = gen()
    centres = torch.tensor([[-3.0, 0.0], [3.0, 0.0]])
    codes = centres[torch.randint(2, (4000,), generator=g)] + 0.3 * torch.randn(4000, 2, generator=g)
    result = holes_over_k(*points(codes), gen(1), ks=[1, 2, 3, 8])
    assert result.chosen_k in (2, 3) and result.chosen_k in result.plausible_ks and 1 not in result.plausible_ks
    assert result.at(1).heldout_ll < result.chosen.heldout_ll - 4 * result.at(1).heldout_se
    lo, hi = result.share_range
    assert lo <= result.chosen.share <= hi and hi > 0.9  # two tight clusters far out: most of the prior is empty
    assert [r.k for r in result.rows] == [1, 2, 3, 8] and not result.at_edge
    i = [1, 2, 3, 8].index(result.chosen_k)  # the sensitivity covers the chosen K's neighbours in the grid
    assert set([1, 2, 3, 8][max(0, i - 1) : i + 2]) | set(result.plausible_ks) == set(result.sensitivity_ks)


def test_the_floor_rises_with_k_when_codes_are_few():
    # q = p exactly, few codes in 8 dimensions: the share is the estimator's own artefact, and the floor says so
    result = holes_over_k(*points(torch.randn(400, 8, generator=gen())), gen(1), ks=[1, 20])
    assert result.at(1).floor < 0.02 and result.at(20).floor > 0.1
    assert result.at(20).share == pytest.approx(result.at(20).floor, abs=0.15)
    assert result.chosen_k == 1 and result.at(20).heldout_ll < result.at(1).heldout_ll


def test_improving_at_the_largest_k_is_flagged_and_unsupported_k_skipped():
    g = gen()
    centres = torch.randn(12, 2, generator=g) * 4
    codes = centres[torch.randint(12, (300,), generator=g)] + 0.05 * torch.randn(300, 2, generator=g)
    result = holes_over_k(*points(codes), gen(1), ks=[1, 2, 500], floor=False)
    assert result.skipped_ks == [500] and [r.k for r in result.rows] == [1, 2]
    assert result.at_edge and result.chosen_k == 2 and result.at(2).floor is None


def test_the_same_generator_gives_the_same_result_with_or_without_floors():
    codes = torch.randn(500, 4, generator=gen())
    a = holes_over_k(*points(codes), gen(3), ks=[1, 4])
    b = holes_over_k(*points(codes), gen(3), ks=[1, 4])
    c = holes_over_k(*points(codes), gen(3), ks=[1, 4], floor=False)
    assert a == b and [(r.share, r.heldout_ll) for r in a.rows] == [(r.share, r.heldout_ll) for r in c.rows]


@pytest.mark.parametrize(
    "mean, logvar, kwargs, words",
    [
        (torch.zeros(5, 2), torch.zeros(5, 2), {}, "N >= 10"),
        (torch.full((20, 2), float("nan")), torch.zeros(20, 2), {}, "NaN"),
        (torch.zeros(20, 2), torch.full((20, 2), float("inf")), {}, "NaN or infinite"),
        (torch.randn(20, 2), torch.zeros(20, 2), {"ks": [0, 2]}, "each 1..1000"),
        (torch.randn(20, 2), torch.zeros(20, 2), {"ks": ["two"]}, "whole numbers"),
        (torch.randn(20, 2), torch.zeros(20, 2), {"ks": [50]}, "too few"),
        (torch.randn(20, 2), torch.zeros(20, 2), {"ratio": 1.5}, "ratio"),
    ],
)
def test_bad_input_is_one_clear_line(mean, logvar, kwargs, words):
    with pytest.raises(ValueError, match=words):
        holes_over_k(mean, logvar, gen(), **kwargs)
