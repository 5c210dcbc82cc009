"""One image's ELBO report: the gap identity, its two parts, and what each kind of model gets."""

import math

import numpy as np
import pytest
import torch
from support import ROOT

import vae_core
from vae_core.analysis.elbo import ElboSettings, elbo_report
from vae_core.analysis.likelihood import NO_DENSITY, log_likelihood
from vae_core.analysis.posterior_grid import ellipse, gaussian_quadrature, hdr_levels, kl_to_posterior
from vae_core.model.losses import gaussian_kl

FAST = ElboSettings(curve_ns=(1, 10, 100), curve_repeats=8, gradient_ns=(1, 10), gradient_repeats=8)


def load(name):
    return vae_core.load_checkpoint(ROOT / "checkpoints" / f"{name}.safetensors")[0]


@pytest.fixture(scope="module")
def val():
    return vae_core.load_dataset("mnist5k", "val").images


@pytest.fixture(scope="module")
def vae2():
    return load("vae-z2")


@pytest.fixture(scope="module")
def reports(vae2, val):
    """Digit 0 (a small amortisation gap) and digit 1 (q's mean 4 σ from the posterior's)."""
    return {i: elbo_report(vae2, val[i], seed=0, settings=FAST) for i in (0, 1)}


def mc_elbo(model, x, mean, logvar, n, seed):
    """An independent Monte-Carlo ELBO (Kingma & Welling eq. 7) and its standard error."""
    eps = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    with torch.inference_mode():
        lik = log_likelihood(model, (mean + (0.5 * logvar).exp() * eps)[:, None], x)[:, 0].double()
    kl = float(gaussian_kl(mean.double(), logvar.double()).sum())
    return float(lik.mean()) - kl, float(lik.std()) / math.sqrt(n)


@pytest.mark.parametrize("index", [0, 1])
def test_gap_equals_kl_to_the_true_posterior_within_monte_carlo_error(vae2, val, reports, index):
    r = reports[index]
    x = val[index : index + 1]
    elbo, se = mc_elbo(vae2, x, torch.from_numpy(r.q_mean).float(), torch.from_numpy(r.q_logvar).float(), 20_000, 7)
    assert abs((r.log_px - elbo) - r.kl_posterior) < 4 * se + 1e-3
    assert abs(r.gap - r.kl_posterior) < 5e-3  # the quadrature's p(x) and q's ELBO vs a sum on the drawn grid
    assert r.kl_posterior > 0 and r.gap > 0
    assert r.elbo == pytest.approx(r.expected_log_lik - r.kl_prior, abs=1e-9)


@pytest.mark.parametrize("index", [0, 1])
def test_approximation_and_amortisation_gaps_add_up_and_q_star_is_optimal(vae2, val, reports, index):
    r = reports[index]
    x = val[index : index + 1]
    assert r.approximation_gap + r.amortisation_gap == pytest.approx(r.gap, abs=1e-9)
    # Each part independently: the approximation gap is q*'s KL to the true posterior on the grid.
    assert kl_to_posterior(r.posterior, r.q_star_mean, r.q_star_logvar) == pytest.approx(r.approximation_gap, abs=5e-3)
    assert r.approximation_gap > -1e-4 and r.amortisation_gap > -1e-4
    # q* is a maximum (of the ELBO interpolated from the grid: within ~1e-3 nats of the exact one's):
    # a step of 0.2 σ* in a mean or of 0.2 in a log-variance does not raise the exact ELBO.
    base = np.concatenate([r.q_star_mean, r.q_star_logvar])
    for j in range(4):
        for step in (-0.2, 0.2):
            p = base.copy()
            p[j] += step * (math.exp(0.5 * base[2 + j]) if j < 2 else 1.0)
            moved = gaussian_quadrature(vae2, x, torch.from_numpy(p[:2]), torch.from_numpy(p[2:]))
            assert moved.elbo <= r.q_star_elbo + 2e-3


def test_digit_1_shows_a_real_amortisation_gap(reports):
    r = reports[1]
    assert r.amortisation_gap > 1.0 > r.approximation_gap  # the encoder's guess is off, not the family


def test_posterior_grid_is_a_normalised_density_with_hdr_contours(reports):
    p = reports[0].posterior
    assert p.density.shape == (len(p.z2), len(p.z1))
    assert p.density.sum() * p.cell == pytest.approx(1.0, abs=1e-3)
    inside = [p.density[p.density >= t].sum() * p.cell for t in p.levels]
    np.testing.assert_allclose(inside, p.level_masses, atol=0.01)
    assert p.levels[0] > p.levels[1] > 0


def test_hdr_levels_of_a_gaussian_are_its_sigma_ellipses():
    t = np.linspace(-6, 6, 601)
    z1, z2 = np.meshgrid(t, t)
    density = np.exp(-(z1**2 + z2**2) / 2) / (2 * math.pi)
    cell = (t[1] - t[0]) ** 2
    levels = hdr_levels(density, cell, [1 - math.exp(-0.5), 1 - math.exp(-2)])
    np.testing.assert_allclose(levels, [math.exp(-0.5) / (2 * math.pi), math.exp(-2) / (2 * math.pi)], rtol=0.02)
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    pts = ellipse([1.0, -1.0], cov, k=2)
    d = pts - [1.0, -1.0]
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d), 4.0, rtol=1e-9)


def test_report_is_deterministic_per_seed_and_plain_data(vae2, val, reports):
    again = elbo_report(vae2, val[0], seed=0, settings=FAST)
    np.testing.assert_array_equal(again.curves.iw, reports[0].curves.iw)
    other = elbo_report(vae2, val[0], seed=1, settings=FAST)
    assert not np.array_equal(other.curves.iw, reports[0].curves.iw)
    assert other.log_px == again.log_px  # the exact parts do not depend on the seed
    import pickle

    assert pickle.loads(pickle.dumps(again)).gap == again.gap


def test_kl_only_model_shows_its_posterior_is_its_prior(val):
    r = elbo_report(load("kl-z2"), val[0], seed=0, settings=FAST)
    assert r.kind == "kl" and r.exact
    assert r.kl_prior < 1e-3 and 0 <= r.gap < 0.25
    assert abs(r.approximation_gap) < 0.25 and abs(r.amortisation_gap) < 0.25
    np.testing.assert_allclose(r.posterior.mean, 0, atol=0.5)


def test_autoencoder_report_has_only_its_reconstruction(val):
    r = elbo_report(load("ae-z2"), val[0], seed=0, settings=FAST)
    assert r.kind == "ae" and not r.exact
    assert r.elbo is None and r.log_px is None and r.posterior is None and r.curves is None
    assert r.unavailable["elbo"] == NO_DENSITY
    assert r.reconstruction.shape == (1, 28, 28) and r.log_lik_at_mean < 0


def test_d16_report_uses_the_iw_stand_in_and_no_posterior(val):
    r = elbo_report(load("vae-z16"), val[0], seed=0, settings=ElboSettings(fit_steps=100, **_fast_kw()))
    assert not r.exact and r.posterior is None and "2-D latent" in r.unavailable["posterior"]
    assert r.log_px_method.startswith("importance-weighted")
    assert r.log_px > r.elbo  # the IW bound with K = 800 is above the ELBO
    assert r.approximation_gap + r.amortisation_gap == pytest.approx(r.gap, abs=1e-9)
    assert r.amortisation_gap > -3 * r.amortisation_gap_se
    assert r.samples.images.shape == (8, 1, 28, 28) and r.samples.z.shape == (8, 16)


def _fast_kw():
    return {k: getattr(FAST, k) for k in ("curve_ns", "curve_repeats", "gradient_ns", "gradient_repeats")}


def test_report_refuses_more_than_one_image(vae2, val):
    with pytest.raises(ValueError, match="one image"):
        elbo_report(vae2, val[:2])


@pytest.mark.parametrize("kind", ["vae", "kl", "ae"])
@pytest.mark.parametrize("latent_dim", [2, 3])
def test_every_kind_and_size_gets_a_finite_report(tiny_model, images8, kind, latent_dim):
    r = elbo_report(tiny_model(kind, latent_dim=latent_dim), images8[0], seed=0, settings=FAST)
    assert r.kind == kind and r.exact == (kind != "ae" and latent_dim == 2)
    assert r.reconstruction.shape == (1, 8, 8) and math.isfinite(r.log_lik_at_mean)
    if kind == "ae":
        assert set(r.unavailable) >= {"elbo", "log_px", "posterior"} and r.gap is None
        return
    numbers = [r.log_px, r.elbo, r.expected_log_lik, r.kl_prior, r.gap, r.approximation_gap, r.amortisation_gap]
    assert all(math.isfinite(v) for v in numbers)
    assert np.isfinite(r.curves.elbo).all() and np.isfinite(r.curves.iw).all()
    assert r.gradients.variance["score"].shape == (2, 2)
    assert (r.posterior is not None) == r.exact and ("q 1σ" in r.ellipses) == r.exact
    assert r.seconds["total"] > 0


def test_elbo_table_script_prints_both_tables(capsys):
    from scripts import elbo_table

    assert elbo_table.main(["--digits", "54", "--n", "3"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| vae-z") or line.startswith("| kl-z")]
    assert len(rows) == 3 + 2 and "nan" not in out


def test_readme_elbo_example_runs(monkeypatch):
    import re

    text = (ROOT / "README.md").read_text()
    section = text[text.index("### The ELBO of one image") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["nll"].shape == (10,) and scope["r"].exact
