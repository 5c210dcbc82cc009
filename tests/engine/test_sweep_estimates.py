"""A sweep table never shows a likelihood it could not compute as a gap: an evaluation stored by
the old estimator without its IW-NLL is re-measured, and a non-finite one is a row in error."""

import vae_core
from vae_core.cli.sweep import Point
from vae_core.model.estimators import NonFiniteEstimate
from vae_core.runs import sweep_table


def saved_model(tmp_path, tiny_model, evaluation):
    model = tiny_model("vae", latent_dim=2)
    meta = {"kind": "vae", "dataset": "digits", "seed": 0, "train_config": {"epochs": 1, "seed": 0},
            "evaluation": evaluation}  # fmt: skip
    return vae_core.save_checkpoint(model, tmp_path / "vae-z2-b0-s0.safetensors", meta)


def test_a_stored_evaluation_that_lost_its_iw_nll_is_measured_again(tmp_path, tiny_model):
    lost = {"split": "val", "iw_samples": 5, "kl": 1.0, "recon": 2.0, "neg_elbo": 3.0, "nll_iw": None}
    path = saved_model(tmp_path, tiny_model, lost)
    row = sweep_table.point_row(Point(0.0, 2, 0), path, 5)
    assert row["nll_iw"] is not None and row["nll_iw"] > 0 and row["status"] == "done"
    assert row["neg_elbo"] != 3.0  # measured, not read back
    assert row["likelihood"].startswith("grey-level cross-entropy")


def test_a_non_finite_estimate_is_a_row_in_error_with_its_reason(tmp_path, tiny_model, monkeypatch):
    path = saved_model(tmp_path, tiny_model, {})

    def broken(*args, **kwargs):
        raise NonFiniteEstimate("The IW-NLL (K=5) is nan for image 3")

    monkeypatch.setattr(sweep_table, "evaluate", broken)
    sweep_table.Table(tmp_path, 5).refresh()
    (row,) = sweep_table.read_table(tmp_path)  # listed, as an error: not dropped, not a silent gap
    assert row["status"] == "error" and "nan for image 3" in row["message"] and row["nll_iw"] is None
    assert row["path"] == path.name
