"""Attribute directions recover planted linear structure; edits change the prediction by the
requested amount; class arithmetic moves between class means."""

import pytest
import torch

from vae_core.analysis.directions import class_means, fit_directions, r_squared, toward_class


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def planted(n=2000, seed=0):
    """Codes whose 'thickness' is linear in z (plus noise) and whose 'noise' attribute is not."""
    g = gen(seed)
    z = torch.randn(n, 4, generator=g) * torch.tensor([1.0, 2.0, 0.5, 1.0])
    w = torch.tensor([0.5, -1.0, 2.0, 0.0])
    return z, {"thickness": z @ w + 3 + 0.1 * torch.randn(n, generator=g), "noise": torch.randn(n, generator=g)}, w


def test_least_squares_recovers_the_planted_direction_with_held_out_r2():
    z, attrs, w = planted()
    zv, attrs_v, _ = planted(500, seed=1)
    d = fit_directions(z, attrs, zv, attrs_v)
    assert d.names == ("thickness", "noise")
    torch.testing.assert_close(d.weights[0].float(), w, atol=0.01, rtol=0)
    assert d.intercepts[0].item() == pytest.approx(3.0, abs=0.01)
    assert d.r2_val[0] > 0.99 and abs(d.r2_val[1]) < 0.02 and d.r2_train[0] > 0.99
    torch.testing.assert_close(d.predict(zv)[:, 0].float(), zv @ w + 3, atol=0.05, rtol=0)


def test_an_edit_changes_the_prediction_by_delta_and_avoids_unused_units():
    z, attrs, _ = planted()
    z[:, 3] = 0.001 * torch.randn(len(z), generator=gen(2))  # a unit the codes hardly use
    attrs["thickness"] = attrs["thickness"] + 50 * z[:, 3]  # noise there gets a large coefficient
    d = fit_directions(z, attrs)
    moved = d.shift(z[:5], "thickness", 1.5)
    torch.testing.assert_close((d.predict(moved) - d.predict(z[:5]))[:, 0], torch.full((5,), 1.5, dtype=torch.float64))
    assert (moved - z[:5])[:, 3].abs().max() < 1e-3  # the step stays where the codes live
    path = d.traverse(z[0], "thickness", [-1.0, 0.0, 2.0])
    assert path.shape == (3, 4) and torch.equal(path[1], z[0])
    assert d.direction("thickness").norm().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="Unknown attribute"):
        d.direction("colour")


def test_nan_attributes_are_skipped_not_propagated():
    z, attrs, w = planted()
    attrs["thickness"][::7] = float("nan")
    d = fit_directions(z, attrs)
    assert torch.isfinite(d.weights).all() and d.r2_train[0] > 0.99


def test_r_squared_of_perfect_mean_and_bad_predictions():
    y = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert r_squared(y, y) == 1.0 and r_squared(y, torch.full_like(y, 2.5)) == 0.0
    assert r_squared(y, -y) < 0


def test_class_means_and_moving_toward_another_class():
    codes = torch.tensor([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [12.0, 10.0]])
    labels = torch.tensor([0, 0, 1, 1])
    means = class_means(codes, labels)
    torch.testing.assert_close(means, torch.tensor([[1.0, 0.0], [11.0, 10.0]]))
    path = toward_class(codes[0], 0, 1, means, steps=5)
    assert path.shape == (5, 2)
    torch.testing.assert_close(path[0], codes[0])
    torch.testing.assert_close(path[-1], codes[0] + means[1] - means[0])  # keeps its offset from its class mean
    with pytest.raises(ValueError, match="needs codes"):
        class_means(codes, torch.tensor([0, 0, 2, 2]), n_classes=3)
    with pytest.raises(ValueError, match="Class 5"):
        toward_class(codes[0], 0, 5, means)
