"""Sample quality and prior holes against cases whose answer is known in closed form."""

import math

import pytest
import torch

from vae_core.analysis import holes, quality
from vae_core.analysis.samplers import SamplerSettings, fit_sampler
from vae_core.model.losses import log_standard_normal


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_judge_counts_confidence_classes_and_entropy():
    probs = torch.tensor([[0.9, 0.1, 0.0], [0.4, 0.3, 0.3], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]])
    q = quality.judge(probs, labels=torch.tensor([0, 1, 1, 2]))
    assert q.n == 4 and q.low_confidence == 0.25
    assert q.class_shares == [0.5, 0.25, 0.25]
    assert q.class_entropy == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)))
    assert q.max_entropy == pytest.approx(math.log(3))
    assert q.mean_confidence == pytest.approx((0.9 + 0.4 + 0.7 + 0.7) / 4)
    assert q.accuracy == 0.75  # the second row is predicted 0, labelled 1
    one_class = quality.judge(torch.tensor([[1.0, 0.0]] * 3))
    assert one_class.class_entropy == 0.0 and str(one_class.class_entropy) == "0.0"


class BrightnessJudge:
    """Class 1 when the image is mostly bright, else class 0, with a confidence of the contrast."""

    image_shape = (1, 8, 8)

    def predict_proba(self, x):
        p1 = x.flatten(1).mean(1).clamp(0, 1)
        return torch.stack([1 - p1, p1], 1)


def test_sample_quality_decodes_and_judges(tiny_model):
    model = tiny_model("vae", latent_dim=3)
    q = quality.sample_quality(model, BrightnessJudge(), torch.randn(50, 3, generator=gen()))
    with torch.inference_mode():
        expected = BrightnessJudge().predict_proba(model.decode(torch.randn(50, 3, generator=gen())))
    assert q.n == 50 and q.class_shares == quality.judge(expected).class_shares
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        quality.sample_quality(model, BrightnessJudge(), torch.randn(5, 4))
    wrong = type("Wrong", (), {"image_shape": (1, 28, 28)})()
    with pytest.raises(ValueError, match="judges"):
        quality.sample_quality(model, wrong, torch.randn(5, 3))


def test_aggregate_posterior_matches_a_direct_mixture():
    g = gen()
    mean, logvar = torch.randn(7, 3, generator=g), torch.randn(7, 3, generator=g) * 0.5
    z = torch.randn(11, 3, generator=g)
    comps = torch.distributions.Independent(torch.distributions.Normal(mean, (0.5 * logvar).exp()), 1)
    mix = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(torch.ones(7)), comps)
    torch.testing.assert_close(holes.log_aggregate_posterior(z, mean, logvar).float(), mix.log_prob(z))


def test_adaptive_widths_follow_a_dense_core_that_one_width_smears():
    # half the codes in a core N(0, 0.5²), half in N(0, 10²): the true q is known
    g = gen()
    codes = torch.cat([torch.randn(2000, 2, generator=g) * 0.5, torch.randn(2000, 2, generator=g) * 10])
    z = torch.randn(20_000, 2, generator=g, dtype=torch.float64)
    parts = [math.log(0.5) - 0.5 * (z * z).sum(1) / v - math.log(2 * math.pi * v) for v in (0.25, 100.0)]
    truth = float(((torch.logaddexp(*parts) - log_standard_normal(z.double())) < math.log(0.1)).double().mean())
    point = torch.full_like(codes, float("-inf"))
    share = {
        bw: holes.prior_holes(codes, point, gen(1), 4000, floor=False, bandwidth=bw).share
        for bw in ("adaptive", "cv", "scott")
    }
    assert abs(share["adaptive"] - truth) < min(abs(share["cv"] - truth), abs(share["scott"] - truth))


def test_holes_share_matches_the_closed_form_for_a_too_narrow_posterior():
    # every posterior is N(0, s² I): q = N(0, s² I), and q < p/10 exactly where
    # |z|² > 2 (log 10 - D log s) / (1/s² - 1); under the prior |z|² ~ chi²(2): P = exp(-r²/2)
    s, d, n = 0.5, 2, 20_000
    mean, logvar = torch.zeros(10, d), torch.full((10, d), 2 * math.log(s))
    r2 = 2 * (math.log(10) - d * math.log(s)) / (1 / s**2 - 1)
    h = holes.prior_holes(mean, logvar, gen(), n_samples=n, floor=False)
    assert h.share == pytest.approx(math.exp(-r2 / 2), abs=3 * h.se)
    assert h.se == pytest.approx(math.sqrt(h.share * (1 - h.share) / n)) and h.floor is None


def test_a_posterior_equal_to_the_prior_has_no_holes_and_clusters_have_many():
    d = 2
    prior_like = holes.prior_holes(torch.zeros(50, d), torch.zeros(50, d), gen())
    assert prior_like.share == 0.0 and prior_like.floor == 0.0 and prior_like.bandwidth is None
    corners = torch.tensor([[4.0, 4.0], [-4.0, 4.0], [4.0, -4.0], [-4.0, -4.0]]).repeat(100, 1)
    clusters = holes.prior_holes(corners, torch.full_like(corners, math.log(0.01)), gen())
    assert clusters.share > 0.95 and clusters.floor < 0.1


def test_autoencoder_codes_get_a_kde_and_a_stated_bandwidth():
    codes = torch.randn(2000, 2, generator=gen())
    h = holes.prior_holes(codes, torch.full_like(codes, float("-inf")), gen())
    assert "adaptive" in h.density and 0.05 < h.bandwidth < 1
    assert h.share < 0.02  # codes that are N(0, I) leave no holes
    wide = holes.prior_holes(codes * 8, torch.full_like(codes, float("-inf")), gen(), bandwidth="scott")
    assert wide.bandwidth == pytest.approx(2000 ** (-1 / 6)) and "scott" in wide.density
    # spread 8x wider the KDE is about N(0, v I), v = 64 (1 + h²): q < p/10 where
    # |z|² < 2 log(v / 10) / (1 - 1/v), the prior's core: P = 1 - exp(-r²/2) ~ 0.86
    v = 64 * (1 + h.bandwidth**2)
    assert wide.share == pytest.approx(1 - math.exp(-math.log(v / 10) / (1 - 1 / v)), abs=0.03)


def test_the_floor_warns_that_many_dimensions_and_few_codes_look_like_holes():
    g = gen()
    mean, logvar = torch.randn(500, 16, generator=g), torch.full((500, 16), math.log(0.01))
    assert holes.prior_holes(mean, logvar, g, n_samples=500).floor > 0.9
    mean2, logvar2 = torch.randn(2000, 2, generator=g) * 0.99, torch.full((2000, 2), math.log(0.01))
    assert holes.prior_holes(mean2, logvar2, g, n_samples=500).floor < 0.1


def test_holes_under_a_fitted_mixture_use_its_density():
    codes = torch.randn(1000, 2, generator=gen()) * 0.3 + 3  # far from the prior's mass
    sampler = fit_sampler(codes, SamplerSettings("gaussian"))
    h = holes.prior_holes_under(sampler.log_prob, 2, gen(), density="gaussian")
    assert h.share > 0.95 and h.density == "gaussian"
    centred = fit_sampler(torch.randn(2000, 2, generator=gen()), SamplerSettings("gaussian"))
    assert holes.prior_holes_under(centred.log_prob, 2, gen()).share < 0.02


def test_ratio_grid_covers_the_extent_and_equals_the_pointwise_ratio():
    g = gen()
    mean, logvar = torch.randn(200, 2, generator=g), torch.full((200, 2), -2.0)
    grid = holes.log_ratio_grid(mean, logvar, (-3, 3, -2, 4), resolution=25)
    assert grid.log_ratio.shape == (25, 25) and grid.extent == (-3.0, 3.0, -2.0, 4.0)
    assert grid.xs[0] == -3 and grid.xs[-1] == 3 and grid.ys[0] == -2 and grid.ys[-1] == 4
    z = torch.tensor([[grid.xs[7].item(), grid.ys[3].item()]])
    direct = holes.log_aggregate_posterior(z, mean, logvar) - log_standard_normal(z.double())
    assert grid.log_ratio[3, 7].item() == pytest.approx(direct.item(), rel=1e-5)  # row = y, column = x
    assert grid.threshold == pytest.approx(math.log(0.1))
    with pytest.raises(ValueError, match="2-D"):
        holes.log_ratio_grid(torch.zeros(5, 3), torch.zeros(5, 3), (-1, 1, -1, 1))
    with pytest.raises(ValueError, match="x_min < x_max"):
        holes.log_ratio_grid(mean, logvar, (1, -1, -1, 1))


def test_code_scale_reports_the_spread_against_the_prior():
    codes = torch.randn(4000, 2, generator=gen()) * torch.tensor([6.0, 2.0])
    s = holes.code_scale(codes, torch.full_like(codes, float("-inf")))
    assert s.std == pytest.approx([6.0, 2.0], rel=0.05) and s.aggregate_std == s.std
    assert s.prior_rms_norm == pytest.approx(math.sqrt(2)) and s.rms_norm == pytest.approx(math.sqrt(40), rel=0.05)
    vae = holes.code_scale(codes * 0, torch.zeros_like(codes))  # every posterior N(0, I): aggregate std 1
    assert vae.std == [0.0, 0.0] and vae.aggregate_std == pytest.approx([1.0, 1.0])


def test_bad_codes_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="NaN"):
        holes.prior_holes(torch.tensor([[0.0, float("nan")], [0.0, 0.0]]), torch.zeros(2, 2), gen())
    with pytest.raises(ValueError, match="one kind"):
        holes.prior_holes(torch.zeros(2, 2), torch.tensor([[0.0, float("-inf")], [0.0, 0.0]]), gen())
    with pytest.raises(ValueError, match="ratio"):
        holes.prior_holes(torch.zeros(3, 2), torch.zeros(3, 2), gen(), ratio=2)
