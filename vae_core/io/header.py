"""A checkpoint's safetensors header, checked field by field without trusting the file.

The header is JSON written by whoever made the file, so every value in it is hostile until
proven otherwise: nesting deep enough to exhaust the stack, 5,000-digit integers, Infinity as an
offset, a shape that is a number, a config asking for 20,000 layers. Each check here is cheap
(no tensor is read, no module is built) and every failure is one `CheckpointError` naming the
field and the bound, so one bad file in a model folder never breaks the list of the others.

Layout (safetensors): 8-byte little-endian header length n, n bytes of JSON, then the tensor
bytes; each entry {"dtype", "shape", "data_offsets": [start, end]} and the offsets must tile the
data exactly (no holes, no overlap, nothing after the last tensor).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path

from ..model.config import ModelConfig, layer_sizes

FORMAT = "vae_core"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 4_000_000  # real headers are ~30 KB (config, metrics, per-epoch history)
MAX_FILE_BYTES = 2**30  # load_checkpoint reads the whole file once; the recipe's model is 2-4 MB
MAX_TENSORS = 256  # entries in a header: weights (4 per hidden layer + 4) and extras
MAX_RANK = 8  # dimensions of one tensor
MAX_DIM = 2**31  # length of one dimension
MAX_EXTRAS = 32  # named extra tensors (the training film's codes, ...)
MAX_EXTRA_BYTES = 256 * 2**20  # all extras together
MAX_NAME_CHARS = 200  # a tensor or extra name
MAX_TEXT_CHARS = 200  # a string field of the metadata (dataset, kind, version)
PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")  # pickle protocol >= 2; torch.save's zip archive
EXTRA_PREFIX = "extra."  # tensors stored beside the weights that are not part of the model
EXTRA_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # what may follow EXTRA_PREFIX (fullmatch), on save and on load
MAX_NAMES_SHOWN = 5  # tensor names listed in one message before "and N more"
ITEM_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2}
ITEM_BYTES |= {"I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}
WEIGHT_DTYPES = ("F16", "BF16", "F32", "F64")  # loaded and cast to float32
EXTRA_DTYPES = WEIGHT_DTYPES + ("U8", "I8", "I16", "I32", "I64")
# Metadata fields other code reads, with the JSON types they must have (None: absent/not finite).
META_TYPES = {
    "kind": str,
    "dataset": str,
    "vae_core_version": str,
    "weights_dtype": str,
    "seed": int,
    "n_train": int,
    "samples_per_s": (int, float),
    "metrics": dict,
    "evaluation": dict,
    "train_config": dict,
    "history": list,
}


class CheckpointError(ValueError):
    """A file that is not a loadable checkpoint; the message says why, for a person."""


def printable(text: str, limit: int = 120) -> str:
    """Text fit for a message or a label: bytes that are not UTF-8 (a file name's surrogate
    escapes) as U+FFFD, no control characters, bounded length; Streamlit cannot send the rest."""
    text = os.fsencode(text).decode("utf-8", "replace") if isinstance(text, str) else str(text)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def display_name(path) -> str:
    return printable(Path(path).name)


def open_regular(path: Path):
    """Open for reading without blocking on a FIFO or a device; (file, size)."""
    name = display_name(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise CheckpointError(f"{printable(str(path), 300)}: no such checkpoint file.") from None
    except OSError as e:
        raise CheckpointError(f"{name}: the file cannot be opened ({e.strerror or e}).") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise CheckpointError(f"{name}: not a regular file.")
    return os.fdopen(fd, "rb"), st.st_size


def header_length(name: str, head: bytes, size: int) -> int:
    """The 8-byte prefix (given with the byte after it), after the checks that need no trust in the file."""
    if size == 0:
        raise CheckpointError(f"{name}: the file is empty.")
    # A safetensors header of 0x..80 bytes also begins with 0x80; its JSON then starts at byte 8.
    if head.startswith(PICKLE_MAGIC) and head[8:9] != b"{":
        raise CheckpointError(
            f"{name} is a pickle (torch.save) file. Pickles can run code when loaded, so they "
            "are refused; only .safetensors checkpoints written by vae_core are accepted."
        )
    n = int.from_bytes(head[:8], "little") if len(head) >= 8 else -1
    if n < 2 or n > size - 8:
        raise CheckpointError(f"{name}: not a safetensors file, or truncated.")
    if n > MAX_HEADER_BYTES:
        raise CheckpointError(f"{name}: its header is {n:,} bytes; the limit is {MAX_HEADER_BYTES:,}.")
    return n


def read_header(path) -> dict:
    """The safetensors JSON header of a file on disk, validated (the weights are not read)."""
    path = Path(path)
    name = display_name(path)
    f, size = open_regular(path)
    try:
        with f:
            head = f.read(9)
            n = header_length(name, head, size)
            raw = head[8:] + f.read(n - len(head[8:]))
    except OSError as e:
        raise CheckpointError(f"{name}: the file cannot be read ({e.strerror or e}).") from None
    return decode_header(name, raw, size - 8 - n)


class DuplicateKey(ValueError):
    """A JSON object naming one key twice."""


def _unique(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        raise DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return d


def strict_json(text):
    """JSON as the safetensors library reads it, so that a file cannot say one thing to our checks
    and another to the loader: bytes must be UTF-8 with no byte-order mark (Python's json.loads
    would accept a BOM and, through surrogatepass, invalid bytes), and no object names a key twice
    (Python keeps the last value, other parsers the first). ValueError or RecursionError otherwise."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError is a ValueError
    return json.loads(text, object_pairs_hook=_unique)  # a leading BOM is a JSONDecodeError here


def decode_header(name: str, raw: bytes, data_len: int) -> dict:
    """JSON -> dict, with every tensor entry checked against the `data_len` bytes that follow."""
    try:
        header = strict_json(raw)
    except DuplicateKey as e:
        raise CheckpointError(f"{name}: the safetensors header names {_short(str(e))} twice.") from None
    except (ValueError, RecursionError):  # bad UTF-8, bad JSON, 5,000-digit ints, deep nesting
        raise CheckpointError(f"{name}: the safetensors header is corrupt.") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name}: the safetensors header is corrupt.")
    if len(header) > MAX_TENSORS + 1:
        raise CheckpointError(f"{name}: the header lists {len(header) - 1:,} tensors; the limit is {MAX_TENSORS}.")
    spans = [_span(name, k, v) for k, v in header.items() if k != "__metadata__"]
    _check_tiling(name, sorted(spans), data_len)
    info = header.get("__metadata__", {})
    if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
        raise CheckpointError(f"{name}: the safetensors header is corrupt (__metadata__ must map names to text).")
    return header


def _span(name: str, key: str, entry) -> tuple[int, int]:
    """One tensor entry's byte range, after checking dtype, shape and offsets agree."""
    where = f"{name}: tensor {_short(key)}"
    if len(key) > MAX_NAME_CHARS or not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise CheckpointError(f"{where} is malformed (expected dtype, shape and data_offsets).")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in ITEM_BYTES:
        raise CheckpointError(f"{where} has an unknown dtype {_short(dtype)}.")
    if not (isinstance(shape, list) and len(shape) <= MAX_RANK and all(_count(s, MAX_DIM) for s in shape)):
        raise CheckpointError(f"{where}: its shape must be a list of at most {MAX_RANK} sizes up to {MAX_DIM:,}.")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_count(o, 2**62) for o in offsets)):
        raise CheckpointError(f"{where}: its data_offsets must be two whole numbers.")
    start, end = offsets
    if end - start != math.prod(shape) * ITEM_BYTES[dtype]:
        raise CheckpointError(f"{where}: its data_offsets do not match its shape and dtype.")
    return start, end


def _check_tiling(name: str, spans: list[tuple[int, int]], data_len: int) -> None:
    pos = 0
    for start, end in spans:
        if start != pos:
            raise CheckpointError(f"{name}: the safetensors header is corrupt (tensors overlap or leave holes).")
        pos = end
    if pos > data_len:
        raise CheckpointError(f"{name}: the file is truncated ({data_len:,} data bytes, the header promises {pos:,}).")
    if pos < data_len:
        raise CheckpointError(f"{name}: {data_len - pos:,} bytes after the last tensor; the file is not a checkpoint.")


def parse_meta(name: str, header: dict) -> tuple[dict, ModelConfig]:
    """The vae_core metadata of a validated header: (meta with a normalised model_config, config)."""
    info = header.get("__metadata__") or {}
    if info.get("format") != FORMAT:
        raise CheckpointError(f"{name}: a safetensors file, but not a vae_core checkpoint (no metadata).")
    version = info.get("format_version", "0")
    version = int(version) if version.isascii() and version.isdigit() and len(version) < 6 else -1
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer vae_core (format {version}; this one reads up to "
            f"{FORMAT_VERSION}). Upgrade vae_core to load it."
        )
    if version < 1:
        raise CheckpointError(f"{name}: unknown checkpoint format version {_short(info.get('format_version'))}.")
    try:
        meta = strict_json(info.get("meta", ""))
        json.dumps(meta, ensure_ascii=False).encode("utf-8")  # a lone surrogate ("\udc80") is not text
    except DuplicateKey as e:
        raise CheckpointError(f"{name}: its metadata names {_short(str(e))} twice.") from None
    except (ValueError, RecursionError):  # (UnicodeEncodeError is a ValueError)
        raise CheckpointError(f"{name}: its metadata is corrupt.") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{name}: its metadata is corrupt.")
    if not isinstance(meta.get("model_config"), dict):
        raise CheckpointError(f"{name}: its metadata has no model settings.")
    try:
        config = ModelConfig.from_dict(meta["model_config"])
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{name}: its model settings are unusable ({e})") from None
    _check_meta_fields(name, meta, config)
    return {**meta, "model_config": config.to_dict()}, config


def _check_meta_fields(name: str, meta: dict, config: ModelConfig) -> None:
    for key, types in META_TYPES.items():
        v = meta.get(key)
        ok = v is None or (isinstance(v, types) and not isinstance(v, bool))
        if not ok or (isinstance(v, str) and len(v) > MAX_TEXT_CHARS):
            raise CheckpointError(f"{name}: its metadata field {key!r} is malformed ({_short(v)}).")
    if meta.get("kind", config.kind) != config.kind:
        raise CheckpointError(
            f"{name}: its metadata says kind {_short(meta['kind'])}, its model settings say {config.kind!r}."
        )


def expected_shapes(config: ModelConfig) -> dict[str, tuple]:
    """The parameter shapes a config implies (vae_core.model.mlp: Linear layers at even indices)."""
    shapes = {}
    for prefix, widths in layer_sizes(config).items():
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            shapes[f"{prefix}.{2 * i}.weight"] = (b, a)
            shapes[f"{prefix}.{2 * i}.bias"] = (b,)
    return shapes


def is_extra(key: str) -> bool:
    """A tensor stored beside the weights under EXTRA_PREFIX with a well-formed name."""
    return key.startswith(EXTRA_PREFIX) and EXTRA_NAME.fullmatch(key[len(EXTRA_PREFIX) :]) is not None


def check_tensors(name: str, header: dict, config: ModelConfig) -> None:
    """Exactly the weights the config implies, floating point and of its shapes (unknown and missing
    tensors are named); extras well named and bounded in number, kind and size."""
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    stored = {k: tuple(v["shape"]) for k, v in entries.items() if not is_extra(k)}
    expected = expected_shapes(config)
    unknown, missing = sorted(set(stored) - set(expected)), sorted(set(expected) - set(stored))
    if unknown or missing:
        parts = [f"unknown {_names(unknown)}"] if unknown else []
        parts += [f"missing {_names(missing)}"] if missing else []
        raise CheckpointError(
            f"{name}: the tensors do not match the architecture its config describes ({'; '.join(parts)})."
        )
    wrong = [k for k in expected if stored[k] != expected[k]]
    if wrong:
        k = wrong[0]
        raise CheckpointError(
            f"{name}: the weights do not match its own description ({_short(k)}: stored {stored[k]}, "
            f"the config implies {expected[k]}; {len(wrong)} tensor{'s' if len(wrong) > 1 else ''} of the wrong shape)."
        )
    for k in expected:
        if entries[k]["dtype"] not in WEIGHT_DTYPES:
            raise CheckpointError(
                f"{name}: the weights are stored as {entries[k]['dtype']}; only float16, bfloat16, "
                "float32 and float64 weights are accepted."
            )
    _check_extras(name, {k: v for k, v in entries.items() if is_extra(k)})


def _check_extras(name: str, extras: dict) -> None:
    total = sum(v["data_offsets"][1] - v["data_offsets"][0] for v in extras.values())
    if len(extras) > MAX_EXTRAS or total > MAX_EXTRA_BYTES:
        raise CheckpointError(
            f"{name}: {len(extras)} extra tensors of {total:,} bytes; the limits are {MAX_EXTRAS} and "
            f"{MAX_EXTRA_BYTES:,} bytes."
        )
    for k, v in extras.items():
        if v["dtype"] not in EXTRA_DTYPES:
            raise CheckpointError(f"{name}: extra tensor {_short(k)} is stored as {v['dtype']}, not a number type.")


def _names(keys: list[str]) -> str:
    """Tensor names for a message: the first MAX_NAMES_SHOWN, each shortened and printable."""
    shown = ", ".join(printable(_short(k), 60) for k in keys[:MAX_NAMES_SHOWN])
    more = len(keys) - MAX_NAMES_SHOWN
    return f"{'tensor' if len(keys) == 1 else 'tensors'} {shown}" + (f" and {more} more" if more > 0 else "")


def checked_meta(path) -> tuple[dict, ModelConfig, dict]:
    """Header read and every check that needs no weights: (meta, config, header)."""
    path = Path(path)
    header = read_header(path)
    meta, config = parse_meta(display_name(path), header)
    check_tensors(display_name(path), header, config)
    return meta, config, header


def _count(v, hi: int) -> bool:
    return type(v) is int and 0 <= v <= hi  # JSON ints only: no bools, no 2.5, no Infinity


def _short(v, n: int = 40) -> str:
    r = repr(v)
    return r if len(r) <= n else r[: n - 1] + "…"


def read_meta(path) -> dict:
    """A checkpoint's metadata, checked against its header without reading the weights (nor torch)."""
    return checked_meta(path)[0]
