"""Every class of hostile ONNX model folder: refused with one line naming the problem, before any
inference where that is possible, and listed as unusable by the registry (without running it)."""

import json
import os

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from onnx_graphs import decoder, encoder, manifest, tensor, with_external, write_folder

import vae_core
from vae_core.io import onnx_folder, onnx_graph, registry
from vae_core.io.header import CheckpointError


def load_error(path) -> str:
    with pytest.raises(CheckpointError) as e:
        vae_core.load_checkpoint(path)
    text = str(e.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def listed(folder):
    entries = [
        e for e in registry.scan(folder.parent / "nothing-shipped", folder.parent, onnx=True) if e.path == folder
    ]
    assert len(entries) == 1
    return entries[0]


def test_a_good_tiny_folder_loads_and_is_listed(tmp_path):
    path = write_folder(tmp_path / "good")
    model, meta = vae_core.load_checkpoint(path)
    assert meta["format"] == "onnx" and meta["kind"] == "vae" and model.config.arch == "onnx"
    post = model.encode(torch.rand(5, 1, 8, 8))
    assert post.mean.shape == (5, 2) and model.decode(post.mean).shape == (5, 1, 8, 8)
    assert model.decode_logits(torch.zeros(3, 4, 2)).shape == (3, 4, 1, 8, 8)  # leading dims, as the IW bound uses
    assert model.encode(torch.rand(0, 1, 8, 8)).mean.shape == (0, 2)
    entry = listed(path)
    assert entry.ok and entry.format == "onnx" and entry.latent_dim == 2 and "ONNX" in entry.label


# (case, what to do to a good folder, words the message must contain, whether the registry sees it)
STATIC = {
    "no manifest": (lambda p: (p / "model.json").unlink(), "no model.json"),
    "no decoder": (lambda p: (p / "decoder.onnx").unlink(), "no decoder.onnx"),
    "manifest not JSON": (lambda p: (p / "model.json").write_text("{nope"), "not valid JSON"),
    "manifest a list": (lambda p: (p / "model.json").write_text("[1]"), "JSON object"),
    "manifest wrong format": (lambda p: _manifest(p, format="vae-explorer-onnx/9"), '"format" must be'),
    "manifest missing field": (lambda p: _manifest(p, dataset=None), "lacks 'dataset'"),
    "manifest unknown field": (lambda p: _manifest(p, latentdim=2), "unknown manifest fields"),
    "manifest bad latent": (lambda p: _manifest(p, latent_dim=1e30), "latent_dim must be a whole number"),
    "manifest bad shape": (lambda p: _manifest(p, image_shape=[1, 8]), "image_shape must be"),
    "manifest bad output": (lambda p: _manifest(p, decoder_output="pixels"), "decoder_output must be one of"),
    "gaussian without sigma": (lambda p: _manifest(p, likelihood="gaussian"), "needs sigma_dec"),
    "manifest huge": (lambda p: (p / "model.json").write_text(" " * (onnx_folder.MAX_MANIFEST_BYTES + 1)), "64 KB"),
    "manifest nested": (lambda p: (p / "model.json").write_text("[" * 20_000), "not valid JSON"),
    "graph not protobuf": (lambda p: (p / "encoder.onnx").write_bytes(b"\xff" * 100), "not an ONNX model"),
    "graph empty": (lambda p: (p / "encoder.onnx").write_bytes(b""), "not an ONNX model"),
    "graph a folder": (lambda p: ((p / "encoder.onnx").unlink(), (p / "encoder.onnx").mkdir()), "not a regular file"),
    "graph a fifo": (lambda p: ((p / "encoder.onnx").unlink(), os.mkfifo(p / "encoder.onnx")), "not a regular file"),
    "opset too new": (lambda p: _graph(p, "decoder.onnx", decoder(), opset=onnx_graph.MAX_OPSET + 1), "opset"),
    "opset too old": (lambda p: _graph(p, "decoder.onnx", decoder(), opset=6), "opset 6"),
    "IR too new": (lambda p: _graph(p, "decoder.onnx", decoder(), ir=onnx_graph.MAX_IR + 1), "IR version"),
    "custom domain import": (lambda p: _custom_domain_import(p), "custom operator domain"),
    "custom operator": (lambda p: _custom_node(p), "custom operator 'com.microsoft.FusedGemm'"),
    "local function": (lambda p: _local_function(p), "local functions"),
    "wrong input name": (lambda p: _graph(p, "encoder.onnx", encoder(names=("x", "mean", "logvar"))), "inputs are 'x'"),
    "no logvar": (lambda p: _graph(p, "encoder.onnx", encoder(point_mass=True)), '"kind": "ae"'),
    "wrong latent size": (lambda p: _graph(p, "decoder.onnx", decoder(d=3)), "is declared [?, 3]"),
    "fixed batch": (lambda p: _graph(p, "decoder.onnx", decoder(batch=1)), "batch size fixed to 1"),
    "wrong declared image": (lambda p: _graph(p, "decoder.onnx", decoder(declared=(1, 8, 9))), "declared [?, 1, 8, 9]"),
    "int input": (lambda p: _int_input(p), "not float32"),
    "too many nodes": (lambda p: _many_nodes(p), "nodes"),
    "external absolute": (lambda p: _external(p, "/etc/passwd"), "only paths relative"),
    "external dotdot": (lambda p: _external(p, "../secret.bin"), "'..'"),
    "external windows": (lambda p: _external(p, "C:\\weights.bin"), "only paths relative"),
    "external link out": (lambda p: _external_link(p), "leads out of the model folder"),
    "graph link out": (lambda p: _graph_link(p), "a link leading out of the model folder"),
    "external missing": (lambda p: _external(p, "nothere.bin"), "which is not in the model folder"),
    "external past end": (lambda p: _external(p, "w.bin", data=b"\0" * 10), "lies outside"),
    "external bad offset": (lambda p: _external(p, "w.bin", data=b"\0" * 600, offset="x"), "not a whole number"),
}


def _manifest(p, **over):
    (p / "model.json").write_text(json.dumps(manifest(**over)))


def _graph(p, file, m, opset=None, ir=None):
    if opset is not None:
        m.opset_import[0].version = opset
    if ir is not None:
        m.ir_version = ir
    (p / file).write_bytes(m.SerializeToString())


def _custom_domain_import(p):
    m = decoder()
    m.opset_import.append(helper.make_opsetid("com.evil", 1))
    _graph(p, "decoder.onnx", m)


def _custom_node(p):
    m = decoder()
    m.graph.node[0].domain = "com.microsoft"
    m.graph.node[0].op_type = "FusedGemm"
    _graph(p, "decoder.onnx", m)


def _local_function(p):
    m = decoder()
    m.functions.append(helper.make_function("local", "F", ["a"], ["b"], [helper.make_node("Relu", ["a"], ["b"])], []))
    _graph(p, "decoder.onnx", m)


def _int_input(p):
    m = decoder()
    m.graph.input[0].type.tensor_type.elem_type = TensorProto.INT64
    _graph(p, "decoder.onnx", m)


def _many_nodes(p):
    m = decoder()
    extra = [helper.make_node("Identity", ["h"], [f"i{k}"]) for k in range(onnx_graph.MAX_NODES)]
    m.graph.node.extend(extra)
    _graph(p, "decoder.onnx", m)


def _external(p, location, data=None, offset=0):
    m = with_external(decoder(), "V", location, offset=offset)
    if data is not None:
        (p / location).write_bytes(data)
    _graph(p, "decoder.onnx", m)


def _external_link(p):
    outside = p.parent / "outside.bin"
    outside.write_bytes(b"\0" * 1024)
    (p / "w.bin").symlink_to(outside)
    _external(p, "w.bin")


def _graph_link(p):
    outside = p.parent / "elsewhere.onnx"
    (p / "decoder.onnx").rename(outside)
    (p / "decoder.onnx").symlink_to(outside)


@pytest.mark.parametrize("case", sorted(STATIC))
def test_static_problems_are_refused_before_any_session_and_listed(case, tmp_path, monkeypatch):
    path = write_folder(tmp_path / "m")
    STATIC[case][0](path)

    def no_session(*a, **k):
        raise AssertionError("an InferenceSession was created for a file that fails the static checks")

    monkeypatch.setattr("vae_core.model.onnx_vae.session", no_session)
    message = load_error(path)
    assert STATIC[case][1] in message, message
    entry = listed(path)
    assert not entry.ok and entry.format == "onnx" and STATIC[case][1] in entry.error


def test_files_above_the_size_bound_are_refused_unread(tmp_path, monkeypatch):
    path = write_folder(tmp_path / "m")
    monkeypatch.setattr(onnx_graph, "MAX_GRAPH_BYTES", 100)
    assert "files over 100 bytes are refused" in load_error(path)
    assert "files over 100 bytes are refused" in listed(path).error


def test_external_data_counts_towards_the_size_bound(tmp_path, monkeypatch):
    path = write_folder(tmp_path / "m")
    enc = encoder()
    weights = next(t for t in enc.graph.initializer if t.name == "W").raw_data
    (path / "w.bin").write_bytes(weights)
    _graph(path, "encoder.onnx", with_external(enc, "W", "w.bin"))
    small = max((path / f).stat().st_size for f in ("encoder.onnx", "decoder.onnx")) + 10
    assert small < (path / "encoder.onnx").stat().st_size + len(weights)
    monkeypatch.setattr(onnx_graph, "MAX_GRAPH_BYTES", small)
    assert "graph and its external data exceed" in load_error(path)


def test_external_data_inside_the_folder_is_read_into_the_graph(tmp_path):
    path = write_folder(tmp_path / "m")
    good, _ = vae_core.load_checkpoint(path)
    weights = next(t for t in decoder().graph.initializer if t.name == "V").raw_data
    (path / "w.bin").write_bytes(b"\1" * 16 + weights)
    _graph(path, "decoder.onnx", with_external(decoder(), "V", "w.bin", offset=16))
    model, _ = vae_core.load_checkpoint(path)
    z = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model.decode(z), good.decode(z))
    assert b"w.bin" not in model.decoder_graph  # self-contained: what the browser will be sent
    assert onnx.load_from_string(model.decoder_graph).graph.initializer[0].data_location == 0


# What only running shows: refused at load by the probe (the registry does not run graphs).
def _nan_decoder(p):
    _graph(p, "decoder.onnx", decoder(post="Log"))  # log of negative logits: NaN


def _wrong_shape(p):
    _graph(p, "decoder.onnx", decoder(shape=(2, 4, 8), declared=("C", "H", "W")))  # sizes left open, wrong ones given


def _huge_codes(p):
    _graph(p, "encoder.onnx", encoder(scale=1e6))


def _probs_out_of_range(p):
    _manifest(p, decoder_output="probs")
    _graph(p, "decoder.onnx", decoder(out="probs"))  # raw Gemm output: negative "probabilities"


def _ort_refuses(p):
    m = decoder()
    m.graph.node[0].input[1] = "nonexistent"  # onnx's checker and onnxruntime both refuse it
    _graph(p, "decoder.onnx", m)


RUNTIME = {
    "non-finite outputs": (_nan_decoder, "not finite"),
    "wrong output shape": (_wrong_shape, "not float32 [16, 1, 8, 8]"),
    "absurd codes": (_huge_codes, "exceed"),
    "probs outside [0, 1]": (_probs_out_of_range, "outside [0, 1]"),
    "invalid graph": (_ort_refuses, "not a valid ONNX graph"),
}


@pytest.mark.parametrize("case", sorted(RUNTIME))
def test_bad_outputs_on_the_probe_batch_are_refused(case, tmp_path):
    path = write_folder(tmp_path / "m")
    RUNTIME[case][0](path)
    assert RUNTIME[case][1] in load_error(path)


def test_a_graph_slower_than_the_bound_is_stopped(tmp_path, monkeypatch):
    """A Loop of 10^9 iterations: onnxruntime's terminate flag stops it at the probe's bound."""
    path = write_folder(tmp_path / "m")
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond"], ["cond_out"]), helper.make_node("Add", ["acc", "acc"], ["acc_out"])],
        "body",
        [tensor("i", [], TensorProto.INT64), tensor("cond", [], TensorProto.BOOL), tensor("acc", None)],
        [tensor("cond_out", [], TensorProto.BOOL), tensor("acc_out", None)],
    )
    m = decoder()
    trip = numpy_helper.from_array(np.array(10**9, np.int64), "trip")
    true = numpy_helper.from_array(np.array(True), "true")
    m.graph.initializer.extend([trip, true])
    gemm = m.graph.node[0]
    gemm.output[0] = "h0"
    m.graph.node.insert(1, helper.make_node("Loop", ["trip", "true", "h0"], ["h"], body=body))
    _graph(path, "decoder.onnx", m)
    monkeypatch.setattr(onnx_folder, "PROBE_SECONDS", 0.5)
    assert "took longer than 0.5 s" in load_error(path)


def test_sessions_use_only_cpu_and_bounded_threads(tmp_path, monkeypatch):
    import onnxruntime as ort

    made = []
    real = ort.InferenceSession

    def spy(graph, options, providers):
        made.append((options.intra_op_num_threads, options.inter_op_num_threads, list(providers)))
        return real(graph, options, providers=providers)

    monkeypatch.setattr(ort, "InferenceSession", spy)
    vae_core.load_checkpoint(write_folder(tmp_path / "m"))
    from vae_core.model.onnx_vae import MAX_THREADS

    assert len(made) == 2
    for intra, inter, providers in made:
        assert 1 <= intra <= MAX_THREADS and inter == 1 and providers == ["CPUExecutionProvider"]


def test_an_onnx_model_is_not_saved_as_a_checkpoint(tmp_path):
    model, _ = vae_core.load_checkpoint(write_folder(tmp_path / "m"))
    with pytest.raises(ValueError, match="copy the folder"):
        vae_core.save_checkpoint(model, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_a_lone_onnx_file_is_listed_with_the_reason(tmp_path):
    (tmp_path / "model.onnx").write_bytes(decoder().SerializeToString())
    [entry] = registry.scan(tmp_path / "none", tmp_path, onnx=True)
    assert not entry.ok and "is a folder with encoder.onnx" in entry.error


@pytest.mark.parametrize("op", ["ConstantOfShape", "Expand"])
def test_a_graph_asking_for_more_memory_than_the_bound_is_refused(op, tmp_path):
    """3 GiB of float32 (over MAX_MEMORY): from a node at run time (ConstantOfShape) or from one
    onnxruntime could fold at load (Expand of constants); the shared arena refuses both."""
    from vae_core.model.onnx_vae import MAX_MEMORY

    n = 3 * 2**30 // 4 // 2**20
    assert n * 2**20 * 4 > MAX_MEMORY
    path = write_folder(tmp_path / "m")
    m = decoder()
    size = numpy_helper.from_array(np.array([n, 2**20], np.int64), "size")
    one = numpy_helper.from_array(np.ones((1, 1), np.float32), "one")
    m.graph.initializer.extend([size, one])
    if op == "ConstantOfShape":
        big = helper.make_node("ConstantOfShape", ["size"], ["big"], value=helper.make_tensor("v", 1, [1], [1.0]))
    else:
        big = helper.make_node("Expand", ["one", "size"], ["big"])
    m.graph.node[0].output[0] = "h0"
    m.graph.node.insert(1, big)
    m.graph.node.insert(2, helper.make_node("ReduceSum", ["big"], ["r"], keepdims=0))
    m.graph.node.insert(3, helper.make_node("Add", ["h0", "r"], ["h"]))
    _graph(path, "decoder.onnx", m)
    message = load_error(path)
    assert "MB of working memory" in message or "onnxruntime cannot load" in message, message


def test_onnx_folders_are_listed_only_when_asked_for(tmp_path):
    write_folder(tmp_path / "m")
    assert registry.scan(tmp_path / "none", tmp_path) == []  # the app's current pages cannot show one yet
    assert [e.name for e in registry.scan(tmp_path / "none", tmp_path, onnx=True)] == ["m"]


def test_the_content_digest_of_a_folder_follows_its_files(tmp_path):
    """Map and sampler caches (and shared links) key a model by content: for a folder, all its files."""
    from vae_core.io.projection_cache import file_digest

    a, b = write_folder(tmp_path / "a"), write_folder(tmp_path / "b")
    assert file_digest(a) == file_digest(b)  # a copy keeps its caches
    (b / "model.json").write_text(json.dumps(manifest(name="other")))
    assert file_digest(a) != file_digest(b)
