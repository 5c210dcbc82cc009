"""Tiny ONNX model folders built with onnx.helper (no exporter: milliseconds), good or bent.

`write_folder(path, ...)` writes a linear "VAE" on 8x8 images: encoder Flatten -> Gemm -> Split
(mean, logvar), decoder Gemm -> Reshape (logits). Keyword arguments bend one thing at a time.
"""

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHAPE = (1, 8, 8)
PIXELS = 64
IR = 10  # what torch 2.14 writes; onnx's own default is newer than onnxruntime-web's


def manifest(d=2, **over) -> dict:
    m = {
        "format": "vae-explorer-onnx/1",
        "name": "tiny",
        "image_shape": list(SHAPE),
        "latent_dim": d,
        "decoder_output": "logits",
        "likelihood": "bernoulli",
        "dataset": "digits",
    }
    m.update(over)
    return {k: v for k, v in m.items() if v is not None}


def model(nodes, inputs, outputs, inits, opset=17, ir=IR, domain=""):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(domain, opset)])
    m.ir_version = ir
    return m


def tensor(name, dims, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, dims)


def encoder(d=2, point_mass=False, batch="N", names=("images", "mean", "logvar"), scale=0.1):
    rng = np.random.default_rng(0)
    width = d if point_mass else 2 * d
    w = numpy_helper.from_array((scale * rng.standard_normal((PIXELS, width))).astype(np.float32), "W")
    nodes = [helper.make_node("Flatten", [names[0]], ["flat"]), helper.make_node("Gemm", ["flat", "W"], ["h"])]
    outs = [tensor(names[1], [batch, d])]
    if point_mass:
        nodes.append(helper.make_node("Identity", ["h"], [names[1]]))
    else:
        split = numpy_helper.from_array(np.array([d, d], dtype=np.int64), "split")
        nodes.append(helper.make_node("Split", ["h", "split"], [names[1], names[2]], axis=1))
        outs.append(tensor(names[2], [batch, d]))
        return model(nodes, [tensor(names[0], [batch, *SHAPE])], outs, [w, split])
    return model(nodes, [tensor(names[0], [batch, *SHAPE])], outs, [w])


def decoder(d=2, out="logits", shape=SHAPE, batch="N", declared=SHAPE, post=None):
    """post: an op name applied to the Gemm output before the reshape (Sigmoid for probs, ...)."""
    rng = np.random.default_rng(1)
    w = numpy_helper.from_array((0.1 * rng.standard_normal((d, PIXELS))).astype(np.float32), "V")
    target = numpy_helper.from_array(np.array([-1, *shape], dtype=np.int64), "shape")
    nodes = [helper.make_node("Gemm", ["z", "V"], ["h"])]
    last = "h"
    if post:
        nodes.append(helper.make_node(post, ["h"], ["p"]))
        last = "p"
    nodes.append(helper.make_node("Reshape", [last, "shape"], [out]))
    return model(nodes, [tensor("z", [batch, d])], [tensor(out, [batch, *declared])], [w, target])


def write_folder(path, d=2, enc=None, dec=None, manifest_over=None, raw_manifest=None):
    path.mkdir(parents=True, exist_ok=True)
    over = manifest_over or {}
    enc = enc if enc is not None else encoder(d, point_mass=over.get("kind") == "ae")
    dec = dec if dec is not None else decoder(d, out=over.get("decoder_output", "logits"))
    for name, m in (("encoder.onnx", enc), ("decoder.onnx", dec)):
        (path / name).write_bytes(m if isinstance(m, bytes) else m.SerializeToString())
    text = raw_manifest if raw_manifest is not None else json.dumps(manifest(d, **over))
    (path / "model.json").write_text(text)
    return path


def with_external(m: onnx.ModelProto, tensor_name: str, location: str, offset=0, length=None):
    """Mark one initializer as stored elsewhere (its bytes are not written anywhere here)."""
    for t in m.graph.initializer:
        if t.name == tensor_name:
            size = len(t.raw_data) or len(numpy_helper.to_array(t).tobytes())
            t.ClearField("raw_data")
            t.ClearField("float_data")
            t.ClearField("int64_data")
            t.data_location = TensorProto.EXTERNAL
            entries = {"location": location, "offset": str(offset), "length": str(size if length is None else length)}
            for k, v in entries.items():
                t.external_data.add(key=k, value=v)
    return m
