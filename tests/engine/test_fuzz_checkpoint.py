"""Structure-aware fuzzing of checkpoint files: every mutant is refused with one CheckpointError
line, or loads as a usable model; the registry lists every one of them without raising.

A mutant is a valid tiny checkpoint with one to three fields of its header (tensor entries, the
vae_core metadata, the model settings, the 8-byte length, the raw JSON text) replaced by hostile
JSON (deep nesting, 5,000-digit integers, Infinity, NaN, wrong types, absurd sizes) or by
plausible-but-wrong values, or with its tensor bytes truncated, extended or overwritten
(NaN, 1e30). Seeded: a failure names its seed and case, and `mutant(seed, case)` rebuilds it.
"""

import json
import random
import struct

import pytest
import torch

import vae_core
from vae_core.io import registry
from vae_core.io.checkpoint import read_extras
from vae_core.io.header import CheckpointError
from vae_core.model.config import ModelConfig
from vae_core.model.mlp import VAE

CASES = 3000
SEEDS = (0,)

DEEP_LIST = "[" * 50_000 + "]" * 50_000
DEEP_DICT = '{"a":' * 20_000 + "1" + "}" * 20_000
HOSTILE = [
    "null", "true", "false", "0", "-1", "1", "2", "2.5", "-2.5", "1e30", "-1e30", "1e308", "Infinity", "-Infinity",
    "NaN", "9" * 5000, "-" + "9" * 5000, "18446744073709551616", "4294967296", '""', '"x"', '"vae"', '"ae"', '"F32"',
    '"I8"', '"F16"', '"1"', json.dumps("a" * 100_000), json.dumps("\u00e9\n\x00"), "[]", "{}", "[1e30]", "[null]",
    "[2.5]", "[-1]", "[[1]]", "[true]", "[1, 2, 3]", "[0, 0]", "[0, 4]", "[1, 8, 8]", "[1, 28, 28]", "[16]",
    "[" + ",".join(["1"] * 20_000) + "]", "[1e10, 8, 8]", DEEP_LIST, DEEP_DICT, '["vae"]', '{"kind": "vae"}',
    "[Infinity]", "[NaN, 1]", "[0, Infinity]", "[0, 1e300]", '{"format": "vae_core"}', "[4, 2]", "[2, 4]",
]  # fmt: skip
CONFIG_KEYS = list(ModelConfig.__dataclass_fields__) + ["extra_setting"]
META_KEYS = ["kind", "dataset", "metrics", "evaluation", "history", "seed", "n_train", "train_config", "model_config"]


def base_checkpoint(tmp_path, dtype) -> bytes:
    cfg = ModelConfig(latent_dim=2, hidden=(4,), image_shape=(1, 8, 8))
    model = VAE(cfg, generator=torch.Generator().manual_seed(0))
    path = vae_core.save_checkpoint(
        model,
        tmp_path / "base.safetensors",
        {"dataset": "digits", "metrics": {"kl": 1.0}, "history": [{"loss": 1.0}], "seed": 0},
        extras={"film": torch.zeros(2, 3, 2, dtype=torch.float16)},
        dtype=dtype,
    )
    return path.read_bytes()


class Raw(str):
    """JSON text to splice in verbatim (json.dumps cannot write 5,000-digit ints or deep nests)."""


def dumps(obj) -> str:
    raws = []

    def mark(o):
        if isinstance(o, Raw):
            raws.append(o)
            return f"@@RAW{len(raws) - 1}@@"
        if isinstance(o, dict):
            return {k: mark(v) for k, v in o.items()}
        if isinstance(o, list):
            return [mark(v) for v in o]
        return o

    text = json.dumps(mark(obj))
    for i, r in enumerate(raws):
        text = text.replace(f'"@@RAW{i}@@"', r)
    return text


def value(rng: random.Random):
    return Raw(rng.choice(HOSTILE))


def mutate_header(rng, header: dict, meta: dict) -> tuple[dict, dict, str]:
    """One mutation of the (header, meta) structures; returns a description."""
    try:
        return _mutate_header(rng, header, meta)
    except (TypeError, KeyError, IndexError, AttributeError):  # an earlier mutation removed the target
        header[rng.choice(["__metadata__", "encoder.0.weight"])] = value(rng)
        return header, meta, "entry replaced"


def _mutate_header(rng, header: dict, meta: dict) -> tuple[dict, dict, str]:
    names = [k for k in header if k != "__metadata__"]
    op = rng.randrange(9)
    if op == 0:
        key = rng.choice(CONFIG_KEYS)
        meta["model_config"][key] = value(rng)
        return header, meta, f"model_config.{key}"
    if op == 1:
        key = rng.choice(META_KEYS)
        meta[key] = value(rng)
        return header, meta, f"meta.{key}"
    if op == 2:
        name, field = rng.choice(names), rng.choice(["dtype", "shape", "data_offsets", None])
        if field is None:
            header[name] = value(rng)
        else:
            header[name][field] = value(rng)
        return header, meta, f"tensor {name}.{field}"
    if op == 3:
        name, field = rng.choice(names), rng.choice(["shape", "data_offsets"])
        if header[name][field]:
            header[name][field][rng.randrange(len(header[name][field]))] = value(rng)
        return header, meta, f"tensor {name}.{field}[i]"
    if op == 4:
        key = rng.choice(["format", "format_version", "meta", "other"])
        header["__metadata__"][key] = value(rng)
        return header, meta, f"__metadata__.{key}"
    if op == 5:
        del header[rng.choice(names)]
        return header, meta, "tensor removed"
    if op == 6:
        name = rng.choice(["extra.x", "encoder.9.weight", "extra." + "y" * 300, "__other__"])
        header[name] = {"dtype": Raw(rng.choice(['"F32"', '"I8"', '"BOOL"', '"F8_E4M3"'])), "shape": value(rng)}
        header[name]["data_offsets"] = value(rng)
        return header, meta, f"tensor {name} added"
    if op == 7:
        meta["model_config"]["latent_dim"] = rng.choice([1, 3, 4, 1024, 1025])
        return header, meta, "latent_dim changed"
    header["__metadata__"]["meta"] = value(rng)
    return header, meta, "meta replaced"


def mutate_body(rng, blob: bytes, n: int, header: dict) -> tuple[bytes, str]:
    body = bytearray(blob[8 + n :])
    op = rng.randrange(4)
    if op == 0:
        return bytes(body[: rng.randrange(len(body) + 1)]), "body truncated"
    if op == 1:
        return bytes(body) + bytes(rng.randrange(1, 64)), "body extended"
    if op == 2:
        for _ in range(rng.randrange(1, 8)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        return bytes(body), "body bytes flipped"
    name = rng.choice([k for k in header if k.endswith("weight")])
    start, end = header[name]["data_offsets"]
    fill = {"F32": "<f", "F64": "<d", "F16": "<e", "BF16": None}[header[name]["dtype"]]
    x = rng.choice([1e30, float("nan"), float("inf"), 3e4, -1e30])
    if fill is None:  # bfloat16: the high half of a float32
        word = struct.pack("<f", x)[2:]
    else:
        try:
            word = struct.pack(fill, x)
        except OverflowError:
            word = struct.pack(fill, float("inf"))
    body[start:end] = (word * ((end - start) // len(word) + 1))[: end - start]
    return bytes(body), f"{name} filled with {x}"


def mutant(base: bytes, seed: int, case: int) -> tuple[bytes, str]:
    rng = random.Random(seed * 1_000_003 + case)
    n = int.from_bytes(base[:8], "little")
    header = json.loads(base[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["meta"])
    what = []
    body = base[8 + n :]
    for _ in range(rng.randrange(1, 4)):
        kind = rng.random()
        if kind < 0.75:
            header, meta, d = mutate_header(rng, header, meta)
        elif kind < 0.95:
            body, d = mutate_body(rng, base, n, json.loads(base[8 : 8 + n]))
        else:
            return rng.randbytes(8) + base[8:], "length prefix replaced"
        what.append(d)
    if isinstance(header.get("__metadata__"), dict) and not isinstance(header["__metadata__"].get("meta"), Raw):
        header["__metadata__"]["meta"] = dumps(meta)
    text = dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body, "; ".join(what)


def check(path, what: str) -> str:
    """The contract for one file; returns "ok" or "refused"."""
    entry = registry._describe.__wrapped__(path, "yours", 0.0, 0)  # uncached: every mutant is read
    assert entry.ok or ("\n" not in entry.error and entry.error.encode("utf-8")), what
    assert isinstance(entry.label, str) and isinstance(entry.latent_dim, int) and len(entry.image_shape) == 3, what
    try:
        model, meta = vae_core.load_checkpoint(path)
    except CheckpointError as e:
        assert "\n" not in str(e) and len(str(e)) < 1000, what
        return "refused"
    except Exception as e:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{what}: {type(e).__name__}: {e}"[:500])
    assert entry.ok, f"{what}: the registry refused a file that loads ({entry.error})"
    with torch.inference_mode():
        x = torch.rand(4, *model.config.image_shape, generator=torch.Generator().manual_seed(0))
        post = model.encode(x)
        assert torch.isfinite(post.mean).all() and torch.isfinite(model.decode(post.mean)).all(), what
    try:
        read_extras(path)
    except CheckpointError:
        pass
    return "ok"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("seed", SEEDS)
def test_mutated_checkpoints_load_or_give_one_line(tmp_path, seed, dtype):
    base = base_checkpoint(tmp_path, dtype)
    outcomes = {"ok": 0, "refused": 0}
    for case in range(CASES // 4):
        data, what = mutant(base, seed, case)
        path = tmp_path / f"mutant-{case}.safetensors"
        path.write_bytes(data)  # a new file each time: truncating one in place is 10x slower here
        outcomes[check(path, f"seed {seed}, case {case} ({dtype}): {what}")] += 1
        path.unlink()
    assert outcomes["refused"] > CASES // 8, outcomes  # the mutations do reach the checks
    assert outcomes["ok"] > 0, outcomes  # and harmless ones (an unused field) still load
