import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vae_core.model.estimators import elbo_terms, iw_nll_per_image
from vae_core.model.losses import bernoulli_nll, gaussian_kl, gaussian_nll
from vae_core.model.posterior import Posterior

KINDS = ["vae", "ae", "kl"]


def test_closed_form_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mean, logvar = torch.randn(5, 7, generator=g) * 2, torch.randn(5, 7, generator=g)
    q, p = Normal(mean, (0.5 * logvar).exp()), Normal(torch.zeros(5, 7), torch.ones(5, 7))
    torch.testing.assert_close(gaussian_kl(mean, logvar), kl_divergence(q, p))
    assert Posterior(mean, logvar).kl().shape == (5,)


def test_kl_is_zero_at_the_prior_and_infinite_for_a_point_mass():
    assert Posterior(torch.zeros(2, 3), torch.zeros(2, 3)).kl().abs().max() == 0
    assert torch.isinf(Posterior.point_mass(torch.zeros(2, 3)).kl()).all()


def test_reparameterisation_passes_gradients_to_mean_and_logvar():
    mean = torch.zeros(4, 3, requires_grad=True)
    logvar = torch.zeros(4, 3, requires_grad=True)
    z = Posterior(mean, logvar).sample(torch.Generator().manual_seed(0))
    (z**2).sum().backward()
    assert mean.grad.abs().sum() > 0 and logvar.grad.abs().sum() > 0


def test_sampling_is_reproducible_with_a_generator():
    post = Posterior(torch.zeros(3, 2), torch.zeros(3, 2))
    a = post.sample(torch.Generator().manual_seed(5), n=4)
    b = post.sample(torch.Generator().manual_seed(5), n=4)
    assert a.shape == (4, 3, 2) and torch.equal(a, b)


def test_bernoulli_nll_is_the_summed_cross_entropy():
    x = torch.tensor([[[[0.0, 1.0], [0.5, 0.2]]]])
    logits = torch.tensor([[[[0.3, -1.0], [2.0, 0.0]]]])
    p = torch.sigmoid(logits)
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum()
    torch.testing.assert_close(bernoulli_nll(logits, x), expected.reshape(1))


def test_gaussian_nll_is_the_scaled_l2_plus_constant():
    x, m, s = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.5), 0.1
    expected = -Normal(m, s).log_prob(x).sum()
    torch.testing.assert_close(gaussian_nll(m, x, s), expected.reshape(1))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_elbo_terms_have_shapes_and_signs(tiny_model, images8, kind, likelihood):
    model = tiny_model(kind, likelihood=likelihood)
    terms = model.loss(images8, torch.Generator().manual_seed(0))
    assert terms.recon.shape == terms.kl.shape == (len(images8),)
    assert terms.loss.dim() == 0 and torch.isfinite(terms.loss)
    if likelihood == "bernoulli":
        assert (terms.recon > 0).all()
    if kind == "ae":
        assert torch.isinf(terms.kl).all()
    else:
        assert (terms.kl >= 0).all() and torch.isfinite(terms.neg_elbo).all()


def test_ae_loss_has_no_kl(tiny_model, images8):
    model = tiny_model("ae")
    terms = model.loss(images8)
    torch.testing.assert_close(terms.loss, terms.recon.mean())
    assert model.encode(images8).std.abs().max() == 0  # zero-variance posterior


def _encoder_grads(model, loss):
    model.zero_grad()
    loss.backward()
    return torch.cat([p.grad.flatten() for p in model.encoder.parameters()])


def test_kl_only_encoder_learns_from_the_kl_alone(tiny_model, images8):
    model = tiny_model("kl")
    terms = model.loss(images8, torch.Generator().manual_seed(0))
    from_loss = _encoder_grads(model, terms.loss)
    from_kl = _encoder_grads(model, model.encode(images8).kl().mean())
    torch.testing.assert_close(from_loss, from_kl)
    # ... while the decoder does learn, from the reconstruction of codes it cannot steer.
    model.zero_grad()
    model.loss(images8, torch.Generator().manual_seed(0)).loss.backward()
    assert sum(p.grad.abs().sum() for p in model.decoder.parameters()) > 0


def test_vae_beta_weights_the_kl(tiny_model, images8):
    t1 = tiny_model("vae", beta=1.0).loss(images8, torch.Generator().manual_seed(0))
    t4 = tiny_model("vae", beta=4.0).loss(images8, torch.Generator().manual_seed(0))
    torch.testing.assert_close(t4.loss - t1.loss, 3 * t1.kl.mean())


def test_iw_bound_with_one_sample_is_the_elbo_on_average(tiny_model, images8):
    model = tiny_model("vae").eval()
    x = images8[:2].repeat(2000, 1, 1, 1)
    iw1 = iw_nll_per_image(model, x, k=1, seed=3).mean().item()
    elbo = elbo_terms(model, x, seed=4)["neg_elbo"]  # analytic KL, many reconstruction samples
    assert math.isclose(iw1, elbo, rel_tol=0.01)


def test_more_importance_samples_never_loosen_the_bound(tiny_model, images8):
    model = tiny_model("vae").eval()
    x = images8.repeat(300, 1, 1, 1)  # average over many draws: the claim is about expectations
    nll = [iw_nll_per_image(model, x, k=k, seed=0).mean().item() for k in (1, 10, 100)]
    assert nll[0] >= nll[1] >= nll[2]


def test_iw_bound_is_stable_across_chunk_sizes(tiny_model, images8):
    model = tiny_model("vae").eval()
    a = iw_nll_per_image(model, images8, k=64, seed=0, chunk=10_000)
    b = iw_nll_per_image(model, images8, k=64, seed=0, chunk=7)
    assert torch.isfinite(a).all() and torch.isfinite(b).all()
    assert (a - b).abs().max() < 0.5  # different sample streams, same estimate
