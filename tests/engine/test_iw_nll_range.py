"""The importance-weighted NLL stays a number where a posterior is nearly a point, and an
estimate that is not a number is an error, never a silent gap in a table."""

import copy
import math

import pytest
import torch

from vae_core.analysis.metrics import evaluate
from vae_core.data.datasets import Dataset
from vae_core.model.estimators import NonFiniteEstimate, iw_nll_per_image
from vae_core.model.losses import LOG_2PI


def with_logvar(model, logvar: float):
    """The model with its encoder's log-variance head set by hand: logvar = `logvar` for every input."""
    last = model.encoder[-1]
    d = model.config.latent_dim
    with torch.no_grad():
        last.weight[d:] = 0.0
        last.bias[d:] = logvar
    return model


def reference_nll(model, x, k, seed):
    """The same estimator in float64, written out directly (z = mu + sigma * eps, the same eps)."""
    model = copy.deepcopy(model).double()
    post = model.encode(x.double())
    gen = torch.Generator().manual_seed(seed)
    eps = torch.randn((k, *post.mean.shape), generator=gen, dtype=torch.float32).double()
    z = post.mean + (0.5 * post.logvar).exp() * eps
    log_px = -model.nll(model.decode_logits(z), x.double())
    log_pz = -0.5 * (LOG_2PI + z.pow(2)).sum(-1)
    log_qz = -0.5 * (LOG_2PI + post.logvar + eps.pow(2)).sum(-1)
    return -(torch.logsumexp(log_px + log_pz - log_qz, 0) - math.log(k))


@pytest.mark.parametrize("logvar", [-120.0, -200.0])
def test_iw_nll_is_finite_and_exact_when_the_log_variance_is_far_below_minus_87(tiny_model, images8, logvar):
    model = with_logvar(tiny_model("vae"), logvar)
    nll = iw_nll_per_image(model, images8, k=16, seed=0)
    assert torch.isfinite(nll).all()
    torch.testing.assert_close(nll.double(), reference_nll(model, images8, 16, 0), rtol=1e-4, atol=1e-2)
    # log q(z|x) = +D * 60 nats for logvar -120: the estimate is far above the ELBO's recon, as it must be
    m = evaluate(model, Dataset("t", "val", images8, torch.zeros(6, dtype=torch.long), ("a",)), iw_samples=4)
    assert math.isfinite(m["nll_iw"]) and math.isfinite(m["nll_iw_se"])


def test_a_non_finite_estimate_is_an_error_naming_the_image(tiny_model, images8, monkeypatch):
    model = tiny_model("vae")
    real = model.nll

    def broken(logits, x):  # image 2's likelihood is NaN, as a broken model's would be
        out = real(logits, x).clone()
        out[..., 2] = float("nan")
        return out

    monkeypatch.setattr(model, "nll", broken)
    with pytest.raises(NonFiniteEstimate, match="image 2"):
        iw_nll_per_image(model, images8, k=4)
    with pytest.raises(ValueError, match="not a missing value"):
        evaluate(model, Dataset("t", "val", images8, torch.zeros(6, dtype=torch.long), ("a",)), iw_samples=4)


def test_the_autoencoder_still_has_no_density_rather_than_an_error(tiny_model, images8):
    assert torch.isinf(iw_nll_per_image(tiny_model("ae"), images8, k=4)).all()
