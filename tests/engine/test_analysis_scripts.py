"""The analysis scripts on tiny models and the digits data: what they print is computed, and
their claim checks can come out either way."""

import json
import subprocess
import sys

import pytest
import torch
from support import ROOT

import vae_core
from scripts import directions_table, lesson_table
from vae_core.analysis.holes import PriorHoles
from vae_core.analysis.mixture_holes import HolesAtK, MixtureHoles
from vae_core.analysis.quality import SampleQuality
from vae_core.io.classifier_file import load_classifier
from vae_core.model.classifier import ClassifierConfig
from vae_core.training.classifier import train_classifier


@pytest.fixture(scope="module")
def digits():
    return vae_core.load_dataset("digits", "train"), vae_core.load_dataset("digits", "val")


@pytest.fixture(scope="module")
def judge(digits):
    cfg = ClassifierConfig(channels=(4, 8), hidden=16, epochs=2, batch_size=128, augment_shift=0)
    return train_classifier(*digits, cfg, seed=0)[0]


@pytest.mark.parametrize("kind", ["vae", "ae", "kl"])
def test_lesson_measure_fills_every_cell(tiny_model, judge, digits, kind):
    model = tiny_model(kind, latent_dim=2)
    r = lesson_table.measure(model, judge, *digits, n_samples=200, seed=0)
    assert set(r["quality"]) == set(lesson_table.SOURCES)
    assert all(q.n == 200 for q in r["quality"].values())
    assert 0 <= r["holes"].share <= 1 and r["holes"].floor is not None
    assert r["holes_k"].chosen_k in r["holes_k"].plausible_ks and r["holes_k"].one_gaussian is not None
    assert (r["holes"].bandwidth is not None) == (kind == "ae")
    assert r["recon"].accuracy is not None and len(r["scale"].std) == 2
    text = lesson_table.tables({f"{kind}-z2": r}, r["recon"])
    assert text.count(f"| {kind}-z2 |") == 3 and text.count("\n|") >= 9
    assert "| K = 1 | K = 2 |" in text


def fake(low_prior, low_fitted, holes, kl, acc, floor=0.0):
    q = lambda low, h: SampleQuality(5000, low, 0.8, h, 2.3, [0.1] * 10)  # noqa: E731
    return {
        "quality": {"prior": q(low_prior, 1.7), "gaussian": q(low_fitted, 2.2), "gmm": q(low_fitted, 2.2)},
        "holes": PriorHoles(holes, 0.005, 2000, 0.1, "mixture", None, floor),
        "holes_k": MixtureHoles(
            [HolesAtK(1, 0.12, 0.007, 0.0, -22.0, 0.1), HolesAtK(10, holes, 0.005, 0.03, -20.0, 0.0)],
            10,
            [10],
            False,
            3600,
            900,
            2000,
            0.1,
            16,
        ),
        "scale": type("S", (), {"std": [8.0, 8.0], "aggregate_std": [8.0, 8.0]})(),
        "recon": SampleQuality(500, 0.5, 0.5, 0.0, 2.3, [0.1] * 10, accuracy=acc),
        "kl": kl,
        "n_codes": 4500,
        "dim": 2,
    }


def test_claims_say_reproduced_or_contradicted_from_the_numbers():
    good = {"ae-z2": fake(0.10, 0.04, 0.3, float("inf"), 0.7), "kl-z2": fake(1.0, 1.0, 0.0, 0.0, 0.1)}
    assert [line.split(": ")[1].split()[0] for line in lesson_table.claims(good)] == ["REPRODUCED"] * 2
    bad = {"ae-z2": fake(0.04, 0.10, 0.3, float("inf"), 0.7), "kl-z2": fake(1.0, 1.0, 0.4, 3.0, 0.6)}
    assert [line.split(": ")[1].split()[0] for line in lesson_table.claims(bad)] == ["CONTRADICTED"] * 2
    blind = lesson_table.claims({"vae-z16": fake(0.1, 0.1, 0.99, 20.0, 0.9, floor=0.99)})
    assert len(blind) == 1 and "cannot tell" in blind[0]
    assert "depends on K" in blind[0] and "K = 10" in blind[0] and "one Gaussian already leaves 12.0%" in blind[0]


def test_k_repeats_reports_the_choices_over_seeds():
    codes = torch.randn(600, 3, generator=torch.Generator().manual_seed(0))
    line = lesson_table.k_repeats(codes, torch.full_like(codes, -2.0), 2)
    assert "over seeds 1–2" in line and line.count("×") >= 1 and "one Gaussian" in line


def test_directions_for_scores_every_attribute(tiny_model, digits):
    dirs, moved = directions_table.directions_for(tiny_model("vae", latent_dim=3), *digits)
    assert len(dirs.r2_val) == 5 and set(moved) == set(dirs.names)
    assert all(torch.isfinite(torch.tensor(v)) for v in moved.values())


def test_train_classifier_cli_writes_a_loadable_file(tmp_path):
    out = tmp_path / "digits.safetensors"
    cmd = [sys.executable, "-m", "scripts.train_classifier", "--dataset", "digits", "--epochs", "1"]
    r = subprocess.run(
        [*cmd, "--channels", "2", "4", "--hidden", "8", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    model, meta = load_classifier(out)
    assert meta["val_accuracy"] == result["val_accuracy"] and meta["dataset"] == "digits" and "epoch 1/1" in r.stderr
    bad = subprocess.run([*cmd, "--lr", "0", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "learning rate" in bad.stderr and "Traceback" not in bad.stderr


def test_timing_covers_every_measure(tiny_model, judge):
    model = tiny_model("ae", latent_dim=2)
    codes = torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    seconds = lesson_table._time_model(model, judge, codes, torch.full_like(codes, float("-inf")))
    assert len(seconds) == 6 and all(s >= 0 for s in seconds.values())
