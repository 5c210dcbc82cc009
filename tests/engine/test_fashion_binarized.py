"""The README's "Fashion-MNIST on the published protocol" table is what the script regenerates from
the shipped checkpoint and its measurement (bench/fashion_binarized_results.json), and the bits it
was measured on are the fixed draw this machine makes."""

import json

import pytest
from support import ROOT

import vae_core
from scripts import fashion_binarized_results as results
from vae_core.data.binarize import binarized_once, digest

ROW = json.loads((ROOT / "bench" / "fashion_binarized_results.json").read_text())


def test_the_readme_table_is_the_scripts_output():
    assert results.table(ROW) in (ROOT / "README.md").read_text()


def test_the_measured_checkpoint_is_shipped_and_says_how_it_was_trained():
    model, meta = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{ROW['name']}.safetensors")
    tcfg = meta["train_config"]
    assert tcfg["binarize"] == "dynamic" and meta["train_split"] == "trainval" and meta["n_train"] == 60_000
    assert tcfg["epochs"] == ROW["epochs"] and model.config.latent_dim == ROW["latent_dim"]
    assert model.config.objective == ROW["objective"] and meta.get("weights_dtype", "float32") == ROW["weights_dtype"]
    assert ROW["likelihood"] == "binarised NLL" and ROW["split"] == "test" and ROW["n"] == 10_000


@pytest.mark.skipif(not vae_core.data.is_available("fashion"), reason="Fashion-MNIST is not installed here")
def test_the_test_bits_are_the_fixed_draw():
    assert digest(binarized_once(vae_core.load_dataset("fashion", "test")).images) == ROW["binarized_sha256"]
