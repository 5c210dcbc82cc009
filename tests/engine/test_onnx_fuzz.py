"""A fuzzer over ONNX model folders: mangled graph bytes, mangled graph fields, mangled manifests.

Whatever it makes, loading gives a model that works or one CheckpointError line, and the registry
lists the folder (usable or not, with a reason); nothing else, ever. Seeded, so a failure repeats.
"""

import json
import random

import numpy as np
import pytest
import torch
from onnx import TensorProto
from onnx_graphs import decoder, encoder, manifest, write_folder

import vae_core
from vae_core.io import registry
from vae_core.io.header import CheckpointError

HOSTILE = [
    None,
    True,
    -1,
    0,
    2**64,
    1e308,
    -1e-300,
    "",
    "x" * 5000,
    "../../etc",
    "\x00\x1b[31m",
    [],
    {},
    [[[[1]]]],
    [1, 2],
]


def mangle_bytes(rng: random.Random, blob: bytes) -> bytes:
    b = bytearray(blob)
    op = rng.randrange(5)
    if op == 0:  # flip a few bytes
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif op == 1:  # truncate
        b = b[: rng.randrange(len(b))]
    elif op == 2:  # insert garbage
        at = rng.randrange(len(b))
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif op == 3:  # duplicate a slice (repeated fields, odd lengths)
        i = rng.randrange(len(b))
        b += b[i : i + rng.randint(1, 200)]
    else:  # a varint length field blown up
        at = rng.randrange(len(b))
        b[at : at + 1] = b"\xff\xff\xff\xff\x0f"
    return bytes(b)


def mangle_fields(rng: random.Random, m):
    """Parseable graphs with one field bent: what gets past the protobuf reader to the checks."""
    op = rng.randrange(8)
    g = m.graph
    if op == 0:
        m.opset_import[0].version = rng.choice([0, 1, 6, 7, 13, 23, 24, 99, -5])
    elif op == 1:
        vi = rng.choice(list(g.input) + list(g.output))
        dims = vi.type.tensor_type.shape.dim
        d = dims[rng.randrange(len(dims))]
        d.dim_value = rng.choice([0, 1, 2, 3, 7, 64, 2**40])
    elif op == 2:
        rng.choice(list(g.input) + list(g.output)).type.tensor_type.elem_type = rng.choice(
            [TensorProto.DOUBLE, TensorProto.INT8, TensorProto.FLOAT16, TensorProto.STRING, 0, 99]
        )
    elif op == 3:
        node = rng.choice(list(g.node))
        node.op_type = rng.choice(["Relu", "Conv", "MatMul", "Loop", "NoSuchOp", "", "Identity"])
    elif op == 4:
        t = rng.choice(list(g.initializer))
        t.dims[:] = [rng.choice([0, 1, 3, 64, 2**31]) for _ in range(rng.randint(0, 3))]
    elif op == 5:
        t = rng.choice(list(g.initializer))
        t.data_location = TensorProto.EXTERNAL
        t.external_data.add(
            key="location", value=rng.choice(["w.bin", "/dev/zero", "..", ".", "a/../../b", "model.json"])
        )
        t.external_data.add(key=rng.choice(["offset", "length"]), value=rng.choice(["0", "-1", "99999999999", "1e3"]))
    elif op == 6:
        node = rng.choice(list(g.node))
        node.input[rng.randrange(len(node.input))] = rng.choice(["missing", "z", "images", ""])
    else:
        m.ir_version = rng.choice([0, 1, 3, 7, 11, 12, 99])
    return m


def mangle_manifest(rng: random.Random) -> str:
    m = manifest()
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(4)
        key = rng.choice([*m, "kind", "beta", "sigma_dec", "tensor_names", "description", "extra"])
        if op == 0:
            m.pop(key, None)
        elif op == 1:
            m[key] = rng.choice(HOSTILE)
        elif op == 2:
            m["tensor_names"] = {rng.choice(["images", "z", "bogus", "mean"]): rng.choice(HOSTILE + ["logits"])}
        else:
            m[key] = rng.choice([1, 2, 3, 1024, 1025, "gaussian", "probs", "ae", [1, 8, 8], [3, 256, 256]])
    text = json.dumps(m)
    return text if rng.random() > 0.1 else text[: rng.randrange(len(text))]


def check(path) -> str:
    try:
        model, _ = vae_core.load_checkpoint(path)
    except CheckpointError as e:
        assert "\n" not in str(e) and str(e)
        outcome = "refused"
    else:
        c = model.config
        z = model.encode(torch.rand(3, *c.image_shape)).mean
        assert z.shape == (3, c.latent_dim) and torch.isfinite(model.decode(z)).all()
        outcome = "loaded"
    [entry] = [e for e in registry.scan(path.parent / "none", path.parent, onnx=True) if e.path == path]
    assert entry.ok or (entry.error and "\n" not in entry.error)
    if outcome == "loaded":
        assert entry.ok  # the registry never refuses what loads
    return outcome


@pytest.mark.parametrize("seed", range(6))
def test_fuzzed_folders_load_or_give_one_line(seed, tmp_path):
    rng = random.Random(seed)
    np.random.seed(seed)
    outcomes = []
    for i in range(40):
        path = tmp_path / f"m{i}"
        kind = rng.randrange(4)
        if kind == 0:
            blob = mangle_bytes(rng, encoder().SerializeToString())
            write_folder(path, enc=blob)
        elif kind == 1:
            blob = mangle_bytes(rng, decoder().SerializeToString())
            write_folder(path, dec=blob)
        elif kind == 2:
            which = rng.choice(["enc", "dec"])
            bent = mangle_fields(rng, encoder() if which == "enc" else decoder())
            write_folder(path, **{which: bent})
            if rng.random() < 0.5:
                (path / "w.bin").write_bytes(bytes(rng.randrange(256) for _ in range(rng.choice([0, 16, 600]))))
        else:
            write_folder(path, raw_manifest=mangle_manifest(rng))
        outcomes.append(check(path))
    assert "refused" in outcomes  # the fuzzer does reach the checks
