"""How typical an image is for a model (vae_core.analysis.typicality), against cases worked by hand."""

import math

import pytest
import torch

from vae_core.analysis import typicality
from vae_core.analysis.thresholds import UNTYPICAL_SHARE
from vae_core.model.config import ModelConfig
from vae_core.model.mlp import VAE


def tiny(kind: str) -> VAE:
    cfg = ModelConfig(kind=kind, latent_dim=2, hidden=(16,), image_shape=(1, 8, 8))
    return VAE(cfg, generator=torch.Generator().manual_seed(0)).eval()


def test_the_figure_is_the_elbo_averaged_over_draws_and_the_reconstruction_for_a_point_code():
    x = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    vae = tiny("vae")
    values, name = typicality.fit_scores(vae, x, samples=4, seed=3)
    with torch.inference_mode():  # by hand: the same four draws per image, then the closed-form KL
        post = vae.encode(x)
        z = post.sample(torch.Generator().manual_seed(3), n=4)
        recon = torch.stack([vae.nll(vae.decode_logits(z[s]), x) for s in range(4)]).mean(0)
    assert name == "−ELBO" and torch.allclose(values, (recon + post.kl()).double(), atol=1e-4)
    ae = tiny("ae")
    values, name = typicality.fit_scores(ae, x)
    with torch.inference_mode():
        want = ae.nll(ae.decode_logits(ae.encode(x).mean), x)
    assert name.startswith("reconstruction") and torch.allclose(values, want.double(), atol=1e-5)


def test_the_share_below_is_the_reference_share_at_or_under_the_value():
    model, x = tiny("vae"), torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    value = float(typicality.fit_scores(model, x)[0][0])
    reference = torch.tensor([value - 10.0] * 30 + [value + 10.0] * 70, dtype=torch.float64)
    t = typicality.typicality(model, x, reference)[0]
    assert t.share_below == pytest.approx(0.3) and not t.untypical and t.n_reference == 100
    far = typicality.typicality(model, x, reference - 100.0)[0]
    assert far.share_below == 1.0 and far.untypical and far.reference_high < value


def test_share_untypical_counts_values_above_the_reference_quantile():
    reference = torch.arange(1000, dtype=torch.float64)  # its UNTYPICAL_SHARE quantile: 989.01
    values = torch.tensor([0.0, 500.0, 989.0, 990.0, 5000.0])
    assert typicality.share_untypical(values, reference) == pytest.approx(2 / 5)
    assert math.isclose(float(torch.quantile(reference, UNTYPICAL_SHARE)), 989.01)


def test_too_few_reference_figures_are_refused_with_a_reason():
    model, x = tiny("vae"), torch.rand(1, 1, 8, 8)
    with pytest.raises(ValueError, match="at least 10 finite"):
        typicality.typicality(model, x, torch.tensor([1.0, float("inf")] * 5))
