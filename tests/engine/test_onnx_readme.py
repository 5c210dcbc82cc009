"""The README's "Your own model" snippet runs as written (its folder pointed at a temp dir) on an
untrained pytorch/examples VAE, and the result opens with load_checkpoint and evaluates."""

import re

import pytest
import torch
from support import ROOT

import vae_core
from vae_core.analysis.metrics import evaluate
from vae_core.data import load_dataset


def snippet() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Your own model") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_onnx_snippet_exports_a_model_that_loads_and_evaluates(tmp_path, monkeypatch):
    code = snippet()
    assert code.count('"user_models/pytorch-examples-vae"') == 1
    code = code.replace('"user_models/pytorch-examples-vae"', repr(str(tmp_path / "pytorch-examples-vae")))
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)  # the snippet's untrained VAE draws its weights from the global RNG, as users' do
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    folder = tmp_path / "pytorch-examples-vae"
    model, meta = vae_core.load_checkpoint(folder)
    assert (folder / "encoder.onnx.data").is_file()  # torch 2.14 writes external data: read from inside the folder
    assert meta["format"] == "onnx" and model.config.latent_dim == 20 and meta["name"] == "pytorch/examples VAE"
    val, train = load_dataset("mnist5k", "val").subset(40), load_dataset("mnist5k", "train").subset(80)
    out = evaluate(model, val, train, iw_samples=4)
    assert out["n"] == 40 and out["kl"] > 0 and out["recon"] > 0 and 0 <= out["knn_accuracy"] <= 1
    # an untrained 784-400-20 decoder draws grey noise: about 784 * log 2 nats of cross-entropy
    assert out["recon"] == pytest.approx(784 * 0.69, rel=0.2)
