"""evaluate() reports each likelihood figure with the standard error of its mean over images."""

import math

import pytest
import torch

import vae_core
from vae_core.analysis.metrics import evaluate, mean_se
from vae_core.model.estimators import elbo_per_image, elbo_terms, iw_nll_per_image


def test_mean_se_is_the_sample_std_over_root_n():
    v = torch.tensor([1.0, 2.0, 3.0, 4.0, 10.0])
    mean, se = mean_se(v)
    assert mean == pytest.approx(4.0) and se == pytest.approx(v.std().item() / math.sqrt(5))
    assert math.isnan(mean_se(torch.tensor([3.0]))[1])
    inf_mean, inf_se = mean_se(torch.tensor([float("inf")] * 3))
    assert inf_mean == float("inf") and math.isnan(inf_se)


def test_elbo_terms_is_the_mean_of_the_per_image_values(tiny_model):
    model = tiny_model("vae")
    x = vae_core.load_dataset("digits", "val").images[:40]
    recon, kl = elbo_per_image(model, x, seed=3, batch_size=16)
    terms = elbo_terms(model, x, seed=3, batch_size=16)
    assert recon.shape == kl.shape == (40,)
    assert terms["recon"] == pytest.approx(recon.double().mean().item())
    assert terms["neg_elbo"] == pytest.approx((recon + kl).double().mean().item())


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_evaluate_reports_standard_errors(tiny_model, kind):
    model = tiny_model(kind)
    val, train = vae_core.load_dataset("digits", "val"), vae_core.load_dataset("digits", "train")
    m = evaluate(model, val, train, iw_samples=4, seed=0)
    recon, kl = elbo_per_image(model, val.images, seed=0)
    assert m["recon_se"] == pytest.approx(recon.double().std().item() / math.sqrt(len(val)))
    assert m["recon_se"] > 0 and m["n"] == len(val)
    if kind == "vae":
        nll = iw_nll_per_image(model, val.images, 4, seed=0)
        assert m["nll_iw"] == pytest.approx(nll.double().mean().item())
        assert m["nll_iw_se"] == pytest.approx(nll.double().std().item() / math.sqrt(len(val)))
        assert m["neg_elbo_se"] == pytest.approx((recon + kl).double().std().item() / math.sqrt(len(val)))
        assert 0 < m["kl_se"] < m["kl"]
    else:  # no density: the figures and their errors do not exist
        assert m["kl"] == float("inf") and math.isnan(m["kl_se"]) and math.isnan(m["nll_iw_se"])
