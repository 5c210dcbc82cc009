"""The L-sample ELBO and K-sample IW curves converge on the exact values at z = 2 (vae-z2), and the
reparameterised gradient has far less variance than the score function's, with the same mean."""

import math

import numpy as np
import pytest
import torch
from support import ROOT

import vae_core
from vae_core.analysis.estimator_curves import estimator_curves
from vae_core.analysis.gradient_variance import gradient_variance
from vae_core.analysis.posterior_grid import gaussian_quadrature
from vae_core.analysis.quadrature import exact_log_px


@pytest.fixture(scope="module")
def setup():
    model = vae_core.load_checkpoint(ROOT / "checkpoints" / "vae-z2.safetensors")[0]
    x = vae_core.load_dataset("mnist5k", "val").images[0:1]
    with torch.inference_mode():
        post = model.encode(x)
    return model, x, post.mean[0], post.logvar[0]


def test_elbo_and_iw_curves_converge_on_the_exact_values(setup):
    model, x, mean, logvar = setup
    curves = estimator_curves(model, x, mean, logvar, torch.Generator().manual_seed(0), (1, 10, 100, 1000), 24)
    elbo = gaussian_quadrature(model, x, mean, logvar).elbo
    log_px = float(exact_log_px(model, x).log_px[0])
    # The L-sample ELBO is unbiased at every L; its spread shrinks like 1/sqrt(L).
    se = curves.elbo_std / math.sqrt(curves.elbo.shape[0])
    assert np.all(np.abs(curves.elbo_mean - elbo) < 4 * se + 1e-6)
    assert curves.elbo_std[-1] < curves.elbo_std[0] / 10
    # The K-sample bound rises with K towards log p(x) and, pooled, sits on it.
    assert np.all(np.diff(curves.iw_mean) > 0)
    assert curves.iw_mean[0] == pytest.approx(elbo, abs=4 * curves.iw_std[0] / math.sqrt(24))
    assert log_px - curves.iw_mean[-1] < (log_px - elbo) / 10
    assert abs(curves.pooled_iw - log_px) < 0.05 and curves.pooled_k == 24_000
    assert abs(curves.pooled_elbo - elbo) < 4 * curves.pooled_elbo_se


def test_reparameterised_and_score_gradients_agree_in_mean_and_not_in_variance(setup):
    model, x, mean, logvar = setup
    g = gradient_variance(model, x, mean, logvar, torch.Generator().manual_seed(0), (1, 4, 16), 64)
    # Both are unbiased estimates of one gradient: their means agree within their standard errors.
    for other in ("score", "score, baseline"):
        diff = np.abs(g.gradient["reparameterised"] - g.gradient[other])
        assert np.all(diff < 4 * np.hypot(g.gradient_se["reparameterised"], g.gradient_se[other]))
    assert np.all(g.ratio > 100)
    v = g.variance["reparameterised"]
    assert np.all(v[-1] < v[0] / 4)  # 16 draws: about 1/16 of one draw's variance
    assert np.all(g.variance["score, baseline"][1:] < g.variance["score"][1:])
    assert np.isnan(g.variance["score, baseline"][0]).all()  # one draw has no other to baseline on


def test_reparameterised_gradient_matches_the_exact_elbo_gradient(setup):
    """Finite differences of the exact (quadrature) ELBO against the estimator's mean."""
    model, x, mean, logvar = setup
    g = gradient_variance(model, x, mean, logvar, torch.Generator().manual_seed(1), (1, 50), 40)
    params = torch.cat([mean, logvar]).double()
    for j in range(4):
        h = 1e-3 * (math.exp(0.5 * float(logvar[j])) if j < 2 else 1.0)
        up, down = params.clone(), params.clone()
        up[j] += h
        down[j] -= h
        fd = (
            gaussian_quadrature(model, x, up[:2], up[2:]).elbo - gaussian_quadrature(model, x, down[:2], down[2:]).elbo
        ) / (2 * h)
        assert abs(g.gradient["reparameterised"][j] - fd) < 4 * g.gradient_se["reparameterised"][j] + 1e-3 * abs(fd)
