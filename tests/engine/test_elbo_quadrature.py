"""Exact log p(x) at D = 2 (vae_core.exact_nll): against an independent sum, refined, ordered."""

import pytest
import torch
from support import ROOT

import vae_core
from vae_core.analysis.likelihood import NO_DENSITY, log_joint_blocked
from vae_core.analysis.posterior_grid import gaussian_quadrature
from vae_core.analysis.quadrature import Grid, exact_log_px
from vae_core.model.estimators import iw_nll_per_image


@pytest.fixture(scope="module")
def vae2():
    return vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z2.safetensors")[0]


@pytest.fixture(scope="module")
def val():
    return vae_core.load_dataset("mnist5k", "val").images


def plain_sum(model, x, box, n):
    """-log p(x) as a Riemann sum over a regular axis-aligned grid on box [[lo1, hi1], [lo2, hi2]]:
    nothing of the adaptive method (no scan, no fitted axes, no acceptance test) is used."""
    t1 = torch.linspace(box[0][0], box[0][1], n, dtype=torch.float64)
    t2 = torch.linspace(box[1][0], box[1][1], n, dtype=torch.float64)
    g1, g2 = torch.meshgrid(t1, t2, indexing="ij")
    lj = log_joint_blocked(model, torch.stack([g1.flatten(), g2.flatten()], -1)[:, None], x)[:, 0]
    border = lj.reshape(n, n)
    edge = torch.cat([border[0], border[-1], border[:, 0], border[:, -1]]).max()
    assert edge < lj.max() - 25, "the independent grid must hold all the mass"
    return float(-(torch.logsumexp(lj, 0) + torch.log((t1[1] - t1[0]) * (t2[1] - t2[0]))))


@pytest.mark.parametrize("index", [4, 19])  # 4: two modes; 19: the mode is 13 σ of q away from q's mean
def test_exact_nll_matches_a_plain_sum_on_a_much_finer_grid(vae2, val, index):
    x = val[index : index + 1]
    ours = float(vae_core.exact_nll(vae2, x)[0])
    with torch.inference_mode():
        post = vae2.encode(x)
    # A wide box around both q and the true mode, found by brute force over the prior's bulk.
    coarse = torch.linspace(-4, 4, 161, dtype=torch.float64)
    g1, g2 = torch.meshgrid(coarse, coarse, indexing="ij")
    z = torch.stack([g1.flatten(), g2.flatten()], -1)
    lj = log_joint_blocked(vae2, z[:, None], x)[:, 0]
    near = torch.cat([z[lj > lj.max() - 30], post.mean.double()])
    box = [[float(near[:, j].min()) - 0.3, float(near[:, j].max()) + 0.3] for j in range(2)]
    assert abs(ours - plain_sum(vae2, x, box, 301)) < 0.01


def test_refining_the_accepted_grid_moves_the_result_by_less_than_a_hundredth_of_a_nat(vae2, val):
    x = val[:16]
    quad = exact_log_px(vae2, x)
    for i in range(len(x)):
        one = exact_log_px(vae2, x[i : i + 1])  # alone, an image keeps its accepted grid
        g = one.grid
        finer = Grid(g.centre, g.axes * 1.3, 2 * g.n - 1, g.fitted)  # 30 % wider, spacing x 0.65
        lj = log_joint_blocked(vae2, finer.points(), x[i : i + 1])
        refined = torch.logsumexp(lj, 0) + finer.log_cell()
        assert abs(float(refined - one.log_px)) < 0.01
        assert abs(float(quad.log_px[i] - one.log_px)) < 0.01  # batched = one at a time


def test_exact_nll_le_iw_nll_le_negative_elbo_on_validation_digits(vae2, val):
    x = val[:60]
    exact = vae_core.exact_nll(vae2, x)
    iw = iw_nll_per_image(vae2, x, 1000, seed=0).double()
    with torch.inference_mode():
        post = vae2.encode(x)
    neg_elbo = torch.tensor(
        [-gaussian_quadrature(vae2, x[i : i + 1], post.mean[i], post.logvar[i]).elbo for i in range(len(x))]
    )
    # Per image the exact ELBO is below log p(x) (the gap is a KL); the IW estimate is an upper bound
    # on -log p(x) only in expectation (one lucky weight can undershoot it), so it is compared on average.
    assert (neg_elbo.double() - exact >= 0).all()
    assert exact.mean() < iw.mean() < neg_elbo.mean()


def test_exact_nll_refuses_models_without_a_2d_posterior(val):
    vae16 = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z16.safetensors")[0]
    ae2 = vae_core.load_checkpoint(ROOT / "checkpoints" / "ae-z2.safetensors")[0]
    with pytest.raises(ValueError, match="16-D latent.*2-D latent"):
        vae_core.exact_nll(vae16, val[:2])
    with pytest.raises(ValueError) as e:
        vae_core.exact_nll(ae2, val[:2])
    assert str(e.value) == NO_DENSITY


def test_exact_nll_refuses_images_of_the_wrong_shape_or_that_give_no_finite_likelihood(vae2, val):
    with pytest.raises(ValueError, match=r"Images must be \[N, 1, 28, 28\]"):
        vae_core.exact_nll(vae2, torch.zeros(2, 1, 8, 8))
    bad = val[:1].clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="not finite"):
        vae_core.exact_nll(vae2, bad)
    assert vae_core.exact_nll(vae2, val[0]).shape == (1,)  # one [C, H, W] image is accepted


def test_kl_only_model_posterior_is_near_its_prior(val):
    """The KL-only decoder barely depends on z, so p(z|x) is close to N(0, I), not equal to it."""
    kl2 = vae_core.load_checkpoint(ROOT / "checkpoints" / "kl-z2.safetensors")[0]
    quad = exact_log_px(kl2, val[:3])
    torch.testing.assert_close(quad.mean, torch.zeros(3, 2, dtype=torch.float64), atol=0.5, rtol=0)
    torch.testing.assert_close(quad.cov, torch.eye(2, dtype=torch.float64).expand(3, 2, 2), atol=0.15, rtol=0)
