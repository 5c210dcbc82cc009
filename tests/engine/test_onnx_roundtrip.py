"""Our model -> ONNX folder -> load: the same codes and images within 1e-5, the same evaluation,
for each kind; the CLI; the shipped ONNX examples; listing without torch or onnxruntime."""

import json
import math
import subprocess
import sys

import pytest
import torch
from support import ROOT

import vae_core
from vae_core.analysis.metrics import evaluate
from vae_core.data import load_dataset
from vae_core.io.onnx_export import export_onnx
from vae_core.model.estimators import iw_nll_per_image

TOL = 1e-5


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One small digits model of each kind, saved, loaded back (as a user would) and exported."""
    from vae_core.model.config import ModelConfig
    from vae_core.model.mlp import VAE

    out = {}
    folder = tmp_path_factory.mktemp("onnx")
    for kind in ("vae", "ae", "kl"):
        cfg = ModelConfig(kind=kind, latent_dim=3, hidden=(32, 16), image_shape=(1, 8, 8))
        model = VAE(cfg, generator=torch.Generator().manual_seed(0))
        path = vae_core.save_checkpoint(model, folder / f"{kind}.safetensors", {"dataset": "digits"})
        ours, meta = vae_core.load_checkpoint(path)
        export_onnx(ours, meta, folder / f"{kind}-onnx")
        out[kind] = (ours, *vae_core.load_checkpoint(folder / f"{kind}-onnx"))
    return out


@pytest.mark.parametrize("kind", ["vae", "ae", "kl"])
def test_round_trip_gives_the_same_codes_and_images(kind, exported):
    ours, theirs, meta = exported[kind]
    assert meta["format"] == "onnx" and meta["kind"] == kind and meta["dataset"] == "digits"
    assert theirs.config.latent_dim == 3 and theirs.config.image_shape == (1, 8, 8) and not theirs.training
    x = load_dataset("digits", "val").images[:50]
    with torch.inference_mode():
        a, b = ours.encode(x), theirs.encode(x)
        assert (a.mean - b.mean).abs().max() <= TOL
        assert a.deterministic == b.deterministic == (kind == "ae")
        if kind != "ae":
            assert (a.logvar - b.logvar).abs().max() <= TOL
        z = torch.cat([a.mean, torch.randn(20, 3, generator=torch.Generator().manual_seed(0))])
        assert (ours.decode(z) - theirs.decode(z)).abs().max() <= TOL
        assert torch.allclose(ours.decode_logits(z), theirs.decode_logits(z), rtol=1e-5, atol=1e-5)
        assert torch.allclose(ours(x), theirs(x), atol=TOL)


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_evaluation_matches_ours(kind, exported):
    ours, theirs, _ = exported[kind]
    val, train = load_dataset("digits", "val").subset(60), load_dataset("digits", "train").subset(120)
    a, b = evaluate(ours, val, train, iw_samples=8), evaluate(theirs, val, train, iw_samples=8)
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], list) or (isinstance(a[key], float) and math.isfinite(a[key])):
            assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-4), key
        else:
            assert a[key] == b[key] or (a[key] != a[key] and b[key] != b[key]), key
    # IW samples decoded as [K, B, D] (leading dims) agree per image too
    x = val.images[:10]
    assert torch.allclose(iw_nll_per_image(ours, x, 5), iw_nll_per_image(theirs, x, 5), rtol=1e-4)


def test_float16_checkpoints_export_float16_weights_losslessly(exported, tmp_path):
    ours, full, _ = exported["vae"]
    path = vae_core.save_checkpoint(ours, tmp_path / "h.safetensors", {"dataset": "digits"}, dtype=torch.float16)
    half, meta = vae_core.load_checkpoint(path)
    export_onnx(half, meta, tmp_path / "h-onnx")
    import onnx

    def half_weights(graph: bytes) -> int:
        return sum(t.data_type == onnx.TensorProto.FLOAT16 for t in onnx.load_from_string(graph).graph.initializer)

    stored = (tmp_path / "h-onnx/decoder.onnx").read_bytes()
    assert half_weights(stored) >= 2 and half_weights(full.decoder_graph) == 0  # float32 weights stay float32
    assert len(stored) < len(full.decoder_graph) - 4000  # the two big matrices at half size
    theirs, _ = vae_core.load_checkpoint(tmp_path / "h-onnx")
    z = torch.randn(30, 3, generator=torch.Generator().manual_seed(1))
    assert (half.decode(z) - theirs.decode(z)).abs().max() <= TOL


def test_export_replaces_a_model_folder_but_never_other_files(exported, tmp_path, monkeypatch):
    ours, theirs, _ = exported["ae"]
    graphs = iter([theirs.encoder_graph, theirs.decoder_graph] * 2)  # the folder logic, without re-exporting
    monkeypatch.setattr("vae_core.io.onnx_export.graph_bytes", lambda *a: next(graphs))
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="other files"):
        export_onnx(ours, {}, target)
    assert (target / "notes.txt").read_text() == "mine"
    (target / "notes.txt").unlink()

    def refuse(folder):
        raise ValueError("no")

    export_onnx(ours, {}, target)
    before = (target / "model.json").read_bytes()
    with pytest.raises(ValueError, match="no"):
        export_onnx(ours, {"dataset": "other"}, target, verify=refuse)
    assert (target / "model.json").read_bytes() == before  # the old folder stays whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left


def test_cli_exports_and_reports_the_differences(exported, tmp_path):
    ours, _, _ = exported["kl"]
    ckpt = vae_core.save_checkpoint(ours, tmp_path / "kl.safetensors", {"dataset": "digits"})
    run = subprocess.run(
        [sys.executable, "-m", "vae_core.export_onnx", str(ckpt), str(tmp_path / "kl-onnx")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    line = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(line["files"]) == {"encoder.onnx", "decoder.onnx", "model.json"}
    assert max(line["max_abs_diff"]["mean"], line["max_abs_diff"]["images"]) <= TOL
    bad = subprocess.run(
        [sys.executable, "-m", "vae_core.export_onnx", str(tmp_path / "missing.safetensors"), str(tmp_path / "x")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("z", [2, 16])
def test_shipped_onnx_examples_match_their_checkpoints(z):
    ours, _ = vae_core.load_checkpoint(ROOT / f"checkpoints/vae-z{z}.safetensors")
    theirs, meta = vae_core.load_checkpoint(ROOT / f"checkpoints/onnx/vae-z{z}-onnx")
    assert meta["format"] == "onnx" and meta["dataset"] == "mnist5k"
    x = load_dataset("mnist5k", "val").images[:100]
    with torch.inference_mode():
        a, b = ours.encode(x), theirs.encode(x)
        assert (a.mean - b.mean).abs().max() <= TOL and (a.logvar - b.logvar).abs().max() <= TOL
        assert (ours.decode(a.mean) - theirs.decode(a.mean)).abs().max() <= TOL


def test_listing_imports_neither_torch_nor_onnxruntime():
    code = (
        "import sys; from vae_core.io import registry; "
        "es = [e for e in registry.scan('checkpoints', onnx=True) if e.format == 'onnx']; "
        "assert len(es) == 2 and all(e.ok for e in es), [e.error for e in es]; "
        "print(sorted(m for m in ('torch', 'onnxruntime') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_evaluate_cli_gives_the_same_json_for_the_onnx_folder(exported, tmp_path):
    ours, theirs, _ = exported["vae"]
    ckpt = vae_core.save_checkpoint(ours, tmp_path / "v.safetensors", {"dataset": "digits"})
    folder = tmp_path / "v-onnx"
    folder.mkdir()
    for name, blob in (("encoder.onnx", theirs.encoder_graph), ("decoder.onnx", theirs.decoder_graph)):
        (folder / name).write_bytes(blob)
    (folder / "model.json").write_text(json.dumps(theirs.config.manifest()))
    lines = []
    for target in (ckpt, folder):
        run = subprocess.run(
            [sys.executable, "-m", "vae_core.evaluate", str(target), "--iw-samples", "5", "--device", "cpu"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr
        lines.append(json.loads(run.stdout.strip().splitlines()[-1]))
    assert lines[0].keys() == lines[1].keys() and lines[1]["dataset"] == "digits"
    for key, value in lines[0].items():
        assert lines[1][key] == (pytest.approx(value, rel=1e-4) if isinstance(value, float) else value), key


def test_sample_quality_takes_an_onnx_model(exported):
    from vae_core.analysis.quality import sample_quality
    from vae_core.io.classifier_file import load_classifier

    classifier, _ = load_classifier(ROOT / "checkpoints/classifiers/digits.safetensors")
    ours, theirs, _ = exported["vae"]
    z = torch.randn(200, 3, generator=torch.Generator().manual_seed(0))
    a, b = sample_quality(ours, classifier, z), sample_quality(theirs, classifier, z)
    assert a.n == b.n == 200 and a.class_shares == b.class_shares
    assert b.mean_confidence == pytest.approx(a.mean_confidence, abs=1e-5)


def test_a_decoder_exported_in_its_own_process_decodes_as_torch_does(tmp_path):
    """decoder_bytes_apart (what the app sends a browser for a conv decoder) runs the exporter in a
    fresh process, whose tracing state no thread of the server shares; its graph decodes as the
    checkpoint does. A file that is not a checkpoint is one line, not a traceback."""
    import numpy as np
    import onnxruntime as ort

    from vae_core.io.onnx_export import decoder_bytes_apart
    from vae_core.model.config import ModelConfig
    from vae_core.model.conv import ConvVAE

    cfg = ModelConfig(arch="conv", latent_dim=3, hidden=(16,), conv_channels=(4, 8), image_shape=(3, 16, 16))
    model = ConvVAE(cfg, generator=torch.Generator().manual_seed(0)).eval()
    path = tmp_path / "tiny-conv.safetensors"
    vae_core.save_checkpoint(model, path, {"dataset": "digits"})
    graph = decoder_bytes_apart(path)
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    got = ort.InferenceSession(graph).run(None, {"z": z.numpy()})[0]
    with torch.inference_mode():
        want = model.decode_logits(z).numpy()
    assert np.allclose(got, want, atol=1e-4)
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="could not be exported to ONNX"):
        decoder_bytes_apart(tmp_path / "bad.safetensors")
