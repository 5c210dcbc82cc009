"""One ONNX graph of a model folder, checked without running anything (an untrusted file).

The file is parsed with the `onnx` package's protobuf reader only; nothing is executed and no
InferenceSession exists yet. Refused, each with one line naming the bound:
- a file above MAX_GRAPH_BYTES (with its external data), or not a regular file;
- bytes that are not an ONNX model, IR versions or opsets outside the supported ranges, operator
  domains other than the standard one (custom operators are native code), local functions,
  more than MAX_NODES nodes;
- external data (tensor bytes in other files) outside the model folder: an absolute path, `..`,
  a link leading out, a range past the end of the file; allowed data is read here, bounded, and
  written into the graph, so onnxruntime is given self-contained bytes and opens no file at all;
- inputs and outputs that do not match the manifest: names, float32, rank, sizes, and a batch
  axis that is not dynamic.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from ..model.onnx_config import OnnxConfig
from .header import CheckpointError, open_regular, printable

MAX_GRAPH_BYTES = 128 * 2**20  # one graph with its external data; the recipe's MLP is 1-2 MB
MAX_NODES = 10_000  # across the graph and its subgraphs; a conv VAE has a few hundred
MAX_DEPTH = 8  # nesting of subgraphs (If/Loop/Scan bodies)
# Opsets both onnxruntime here and onnxruntime-web (the app's in-browser decoder) implement:
# onnxruntime runs opset 7 and later; 23 is ONNX 1.18's, which every onnxruntime(-web) >= 1.22 has.
MIN_OPSET, MAX_OPSET = 7, 23
MIN_IR, MAX_IR = 3, 11  # ONNX IR versions (torch 2.14 writes 10)
STANDARD_DOMAINS = ("", "ai.onnx")
FLOAT = 1  # onnx.TensorProto.FLOAT
EXTERNAL = 1  # onnx.TensorProto.EXTERNAL


def check_graph(folder: Path, file: str, config: OnnxConfig, inline: bool = True) -> bytes | None:
    """The graph `folder/file` checked against `config`; with `inline`, its self-contained bytes
    (external data read in); without, only the checks that read no external data (the registry's)."""
    name = f"{printable(folder.name)}/{file}"
    blob = read_bounded(name, folder / file, MAX_GRAPH_BYTES)
    proto = _parse(name, blob)
    _check_versions(name, proto)
    graphs = _graphs(name, proto.graph)
    if sum(len(g.node) for g in graphs) > MAX_NODES:
        raise CheckpointError(f"{name}: more than {MAX_NODES:,} nodes; the limit keeps loading bounded.")
    _check_domains(name, graphs)
    external = [t for g in graphs for t in _tensors(g) if t.data_location == EXTERNAL]
    _check_signature(name, proto.graph, config, "encoder" if file.startswith("encoder") else "decoder")
    if external:
        _read_external(name, folder, external, MAX_GRAPH_BYTES - len(blob), inline)
    if not inline:
        return None
    return _checked_bytes(name, proto.SerializeToString() if external else blob)


def read_bounded(name: str, path: Path, limit: int) -> bytes:
    """A regular file's bytes, refused above `limit` (a file growing while read included)."""
    f, size = open_regular(path)
    with f:
        if size > limit:
            raise CheckpointError(f"{name} is {amount(size)}; files over {amount(limit)} are refused.")
        try:
            blob = f.read(limit + 1)
        except OSError as e:
            raise CheckpointError(f"{name}: the file cannot be read ({e.strerror or e}).") from None
    if len(blob) > limit:
        raise CheckpointError(f"{name} grew past {amount(limit)} while being read; refused.")
    return blob


def _parse(name: str, blob: bytes):
    import onnx
    from google.protobuf.message import DecodeError

    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(blob)
    except (DecodeError, RecursionError, ValueError, RuntimeError):
        raise CheckpointError(f"{name}: not an ONNX model (the protobuf does not parse).") from None
    if not proto.HasField("graph") or not blob:
        raise CheckpointError(f"{name}: not an ONNX model (no graph).")
    return proto


def _check_versions(name: str, proto) -> None:
    if not MIN_IR <= proto.ir_version <= MAX_IR:
        raise CheckpointError(
            f"{name}: ONNX IR version {proto.ir_version}; versions {MIN_IR} to {MAX_IR} are supported."
        )
    if len(proto.functions):
        raise CheckpointError(f"{name}: local functions are not supported; export with them inlined.")
    opsets = {}
    for o in proto.opset_import:
        if o.domain not in STANDARD_DOMAINS:
            raise CheckpointError(
                f"{name}: custom operator domain {printable(o.domain, 60)!r}; only standard ONNX operators are run."
            )
        opsets[o.domain or "ai.onnx"] = o.version
    version = opsets.get("ai.onnx")
    if version is None or not MIN_OPSET <= version <= MAX_OPSET:
        raise CheckpointError(
            f"{name}: opset {version}; opsets {MIN_OPSET} to {MAX_OPSET} are supported "
            f"(export with opset_version={MAX_OPSET} or lower)."
        )


def _graphs(name: str, graph, depth: int = 0) -> list:
    """The graph and every subgraph in its nodes' attributes, depth-bounded."""
    if depth > MAX_DEPTH:
        raise CheckpointError(f"{name}: subgraphs nested deeper than {MAX_DEPTH}.")
    out = [graph]
    for node in graph.node:
        for a in node.attribute:
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                out += _graphs(name, g, depth + 1)
        if len(out) > MAX_NODES:
            raise CheckpointError(f"{name}: more than {MAX_NODES:,} subgraphs.")
    return out


def _check_domains(name: str, graphs: list) -> None:
    for g in graphs:
        for node in g.node:
            if node.domain not in STANDARD_DOMAINS:
                op = printable(f"{node.domain}.{node.op_type}", 80)
                raise CheckpointError(f"{name}: custom operator {op!r}; only standard ONNX operators are run.")


def _tensors(graph) -> list:
    """Every tensor stored in one graph: initializers, sparse ones and node attributes."""
    out = list(graph.initializer)
    for s in graph.sparse_initializer:
        out += [s.values, s.indices]
    for node in graph.node:
        for a in node.attribute:
            out += ([a.t] if a.HasField("t") else []) + list(a.tensors)
            for s in ([a.sparse_tensor] if a.HasField("sparse_tensor") else []) + list(a.sparse_tensors):
                out += [s.values, s.indices]
    return out


def _read_external(name: str, folder: Path, tensors: list, budget: int, inline: bool) -> None:
    """Check every external reference (and with `inline`, move its bytes into the tensor)."""
    root = folder.resolve()
    sizes: dict[Path, int] = {}
    for t in tensors:
        info = {e.key: e.value for e in t.external_data}
        where = f"{name}: tensor {printable(t.name, 60)!r}"
        path = _inside(where, root, info.get("location", ""))
        if path not in sizes:
            f, sizes[path] = open_regular(path)
            f.close()
        offset, length = _span(where, info, sizes[path])
        budget -= length
        if budget < 0:
            raise CheckpointError(f"{name}: the graph and its external data exceed {amount(MAX_GRAPH_BYTES)}; refused.")
        if inline:
            f, _ = open_regular(path)
            with f:
                f.seek(offset)
                data = f.read(length)
            if len(data) != length:
                raise CheckpointError(f"{where}: its external data file shrank while being read.")
            t.raw_data = data
            del t.external_data[:]
            t.data_location = 0


def _inside(where: str, root: Path, location: str) -> Path:
    """A relative path to a file inside the model folder (after following links), or refused."""
    shown = printable(location, 80)
    windows = PureWindowsPath(location)
    parts = PurePosixPath(location.replace("\\", "/")).parts
    if not location or "\x00" in location or windows.drive or windows.root or location.startswith("/"):
        raise CheckpointError(
            f"{where} stores its data at {shown!r}: only paths relative to the model folder are read."
        )
    if ".." in parts:
        raise CheckpointError(f"{where} stores its data at {shown!r}: '..' may not leave the model folder.")
    path = (root / location).resolve()
    if not path.is_relative_to(root) or path == root:
        raise CheckpointError(f"{where} stores its data at {shown!r}, which leads out of the model folder.")
    if not path.exists():
        raise CheckpointError(f"{where} stores its data in {shown!r}, which is not in the model folder.")
    return path


def amount(n: int) -> str:
    """A byte count for a message: 128 MB, 64 KB, 900 bytes."""
    if n >= 2**20:
        return f"{n / 2**20:,.0f} MB"
    return f"{n / 2**10:,.0f} KB" if n >= 2**10 else f"{n:,} bytes"


def _span(where: str, info: dict, size: int) -> tuple[int, int]:
    try:
        offset = int(info.get("offset", "0"))
        length = int(info["length"]) if "length" in info else size - offset
    except ValueError:
        raise CheckpointError(f"{where}: its external data offset or length is not a whole number.") from None
    if offset < 0 or length < 0 or offset + length > size:
        raise CheckpointError(
            f"{where}: its external data range {offset:,}+{length:,} lies outside the {size:,}-byte file."
        )
    return offset, length


def _dims(value_info) -> list | None:
    """[(value or None, symbolic name or None), ...] of a float32 tensor; None: no shape given."""
    t = value_info.type
    if t.WhichOneof("value") != "tensor_type" or t.tensor_type.elem_type != FLOAT:
        return []  # not a float32 tensor
    if not t.tensor_type.HasField("shape"):
        return None
    return [(d.dim_value if d.HasField("dim_value") else None) for d in t.tensor_type.shape.dim]


def _check_signature(name: str, graph, config: OnnxConfig, role: str) -> None:
    """Inputs and outputs named, typed and sized as the manifest says (batch axis dynamic)."""
    names, d, image = config.tensor_names, config.latent_dim, list(config.image_shape)
    if role == "encoder":
        inputs, outs = {names["images"]: image}, {names["mean"]: [d]}
        if not config.point_mass:
            outs[names["logvar"]] = [d]
    else:
        inputs, outs = {names["z"]: [d]}, {names[config.decoder_output]: image}
    constants = {t.name for t in graph.initializer}
    given = [i for i in graph.input if i.name not in constants]
    if [i.name for i in given] != list(inputs):
        got = ", ".join(repr(printable(i.name, 40)) for i in given[:4]) or "none"
        raise CheckpointError(f"{name}: its inputs are {got}; the manifest says one input {next(iter(inputs))!r}.")
    outputs = {o.name: o for o in graph.output}
    for want in outs:
        if want not in outputs:
            got = ", ".join(repr(printable(o, 40)) for o in list(outputs)[:4]) or "none"
            hint = ' (an autoencoder\'s manifest says "kind": "ae")' if want == names["logvar"] else ""
            raise CheckpointError(f"{name}: no output {want!r} (it has {got}){hint}.")
    for vi, tail in [(given[0], inputs[given[0].name]), *((outputs[k], v) for k, v in outs.items())]:
        _check_dims(name, vi.name, _dims(vi), tail)


def _check_dims(name: str, tensor: str, dims: list | None, tail: list) -> None:
    want = f"float32 [N, {', '.join(map(str, tail))}]"
    if dims is None:
        return  # no declared shape: the probe batch at load checks what it really gives
    if dims == [] or len(dims) != 1 + len(tail):
        raise CheckpointError(f"{name}: {tensor!r} is declared {_declared(dims)}; the manifest implies {want}.")
    if dims[0] is not None:
        raise CheckpointError(
            f"{name}: {tensor!r} has its batch size fixed to {dims[0]}; export with a dynamic batch axis "
            "(torch.onnx.export(..., dynamic_axes={name: {0: 'batch'}}))."
        )
    if any(g is not None and g != w for g, w in zip(dims[1:], tail, strict=True)):
        raise CheckpointError(f"{name}: {tensor!r} is declared {_declared(dims)}; the manifest implies {want}.")


def _declared(dims: list) -> str:
    return "not float32" if dims == [] else "[" + ", ".join("?" if v is None else str(v) for v in dims) + "]"


def _checked_bytes(name: str, blob: bytes) -> bytes:
    """The self-contained graph, after onnx's structural checker (it runs nothing)."""
    import onnx

    try:
        onnx.checker.check_model(blob)
    except Exception as e:  # onnx.checker.ValidationError and the C++ checker's other complaints
        reason = printable((str(e).splitlines() or [type(e).__name__])[0], 160)
        raise CheckpointError(f"{name}: not a valid ONNX graph ({reason}).") from None
    return blob
