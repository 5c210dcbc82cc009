"""The header as text: whatever our checks accept, the safetensors library must read the same way.

A file that our JSON parser reads one way and the library another is listed as a good model and
then fails to load, or loads tensors other than the ones checked. Python's json.loads accepts a
byte-order mark, invalid UTF-8 (through surrogatepass) and repeated keys (keeping the last); the
library does not. Seeded text-level mutants of a valid header (BOM, whitespace, repeated keys at
every level, escaped and invalid characters, odd digits in the format version) must each be
refused with a CheckpointError by the loader, the header reader and the registry alike, or read
identically by all of them and by the library. The registry's line must match the loaded model.
"""

import json
import random

import pytest
import torch
from safetensors.torch import load

import vae_core
from vae_core.io import registry
from vae_core.io.checkpoint import read_extras
from vae_core.io.header import CheckpointError, read_header, read_meta
from vae_core.model.config import ModelConfig
from vae_core.model.mlp import VAE

SEED = 18
CASES = 1500


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> bytes:
    cfg = ModelConfig(latent_dim=2, hidden=(4,), image_shape=(1, 8, 8))
    model = VAE(cfg, generator=torch.Generator().manual_seed(0))
    folder = tmp_path_factory.mktemp("base")
    path = vae_core.save_checkpoint(model, folder / "b.safetensors", {"dataset": "digits"}, extras={"f": torch.ones(3)})
    return path.read_bytes()


def split(blob: bytes) -> tuple[str, bytes]:
    n = int.from_bytes(blob[:8], "little")
    return blob[8 : 8 + n].decode(), blob[8 + n :]


def join(text, body: bytes) -> bytes:
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return len(raw).to_bytes(8, "little") + raw + body


def outcome(path) -> str:
    """'ok' or 'refused' for the file, after checking that every reader agrees."""
    entry = registry._describe.__wrapped__(path, "yours", 0.0, 0)
    assert entry.ok or ("\n" not in entry.error and entry.error.encode("utf-8"))
    entry.label.encode("utf-8"), entry.description.encode("utf-8")  # what the page sends must be text
    results = {}
    for read in (vae_core.load_checkpoint, read_meta, read_extras):
        try:
            results[read.__name__] = read(path)
        except CheckpointError as e:
            assert "\n" not in str(e) and len(str(e)) < 1000
            results[read.__name__] = None
    if not entry.ok:
        assert all(v is None for v in results.values()), f"the registry refused, a reader did not: {entry.error}"
        return "refused"
    assert results["read_meta"] is not None and results["read_extras"] is not None
    stored = load(path.read_bytes())  # the library reads what we checked, tensor for tensor
    header = read_header(path)
    assert {k: list(v.shape) for k, v in stored.items()} == {k: v["shape"] for k, v in header.items() if k[0] != "_"}
    model, meta = results["load_checkpoint"]
    assert (entry.kind, entry.latent_dim) == (model.config.kind, model.config.latent_dim)
    return "ok"


def duplicate_pair(text: str, rng: random.Random) -> str:
    """Repeat one "key": value pair of some object (with another value or the same), parsing nothing."""
    obj = json.loads(text)
    where = rng.choice(["top", "metadata", "entry", "meta"])
    if where == "meta":
        meta = obj["__metadata__"]["meta"]
        inner = meta[:-1] + ', "kind": ' + json.dumps(rng.choice(["vae", "ae"])) + "}"
        return text.replace(json.dumps(meta)[1:-1], json.dumps(inner)[1:-1])
    if where == "metadata":
        return text.replace('"__metadata__":{', '"__metadata__":{"format":"other",', 1)
    key = rng.choice([k for k in obj if k != "__metadata__"])
    entry = json.dumps(obj[key], separators=(",", ":"))
    if where == "top":
        return text[:-1] + f',"{key}":{entry}}}'
    return text.replace(f'"{key}":{{', f'"{key}":{{"dtype":"F64",', 1)


def parses(text: str) -> bool:
    try:
        obj = json.loads(text)
        return isinstance(obj, dict) and isinstance(obj.get("__metadata__"), dict) and len(obj) > 1
    except ValueError:
        return False


def mutate(text: str, rng: random.Random):
    op = rng.randrange(8)
    if op in (2, 7) and not parses(text):  # these two rebuild the JSON: only from text that is JSON
        op = 1
    if op == 0:
        return "\ufeff" + text
    if op == 1:
        i = rng.choice([i for i, c in enumerate(text) if c in ",:{}[]"])
        return text[: i + 1] + rng.choice([" ", "\n", "\t", "  \r\n"]) + text[i + 1 :]
    if op == 2:
        return duplicate_pair(text, rng)
    if op == 3:  # a key or a value written with \u escapes: the same string
        i = rng.choice([i for i, c in enumerate(text) if c.isalpha()])
        return text[:i] + f"\\u{ord(text[i]):04x}" + text[i + 1 :]
    if op == 4:  # invalid UTF-8 inside a string
        i = rng.choice([i for i, c in enumerate(text) if c.isalpha()])
        return text[:i].encode() + rng.choice([b"\xff", b"\xed\xb2\x80", b"\xc3"]) + text[i:].encode()
    if op == 5:  # a lone surrogate, escaped (valid UTF-8 bytes, not valid text)
        i = rng.choice([i for i, c in enumerate(text) if c.isalpha()])
        return text[:i] + rng.choice(["\\udc80", "\\ud800", "\\\\udc80"]) + text[i + 1 :]
    if op == 6:
        digit = rng.choice(["01", "\\u0661", "\\u00b9", "\\uff11", "1 ", "+1", "1\\u0000", "0", "99999"])
        return text.replace('"format_version":"1"', f'"format_version":"{digit}"')
    obj = json.loads(text)  # the same entries in another order: still one valid header
    keys = list(obj)
    rng.shuffle(keys)
    return json.dumps({k: obj[k] for k in keys}, separators=(",", ":"))


def test_text_mutants_are_read_alike_by_every_reader_or_refused_by_all(tmp_path, base):
    text, body = split(base)
    rng = random.Random(SEED)
    outcomes = {"ok": 0, "refused": 0}
    for case in range(CASES):
        mutant = text
        for _ in range(rng.randint(1, 2)):
            mutant = mutate(mutant if isinstance(mutant, str) else text, rng)
        path = tmp_path / f"m{case}.safetensors"
        path.write_bytes(join(mutant, body))
        try:
            outcomes[outcome(path)] += 1
        except AssertionError as e:
            pytest.fail(f"seed {SEED}, case {case}: {e}\n{mutant[:300]!r}")
        except Exception as e:  # noqa: BLE001 - anything but a CheckpointError is the bug
            pytest.fail(f"seed {SEED}, case {case}: {type(e).__name__}: {e}\n{mutant[:300]!r}"[:800])
        path.unlink()
    assert outcomes["ok"] > CASES // 10 and outcomes["refused"] > CASES // 4, outcomes


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda t: "\ufeff" + t, "header is corrupt"),  # a byte-order mark
        (lambda t: t.replace('\\"digits\\"', '\\"dig\udc80\\"'), "header is corrupt"),  # invalid UTF-8 bytes
        (lambda t: t.replace('\\"digits\\"', '\\"dig\\udc80\\"'), "metadata is corrupt"),  # escaped in the header
        (lambda t: t.replace('\\"digits\\"', '\\"dig\\\\udc80\\"'), "metadata is corrupt"),  # escaped in the meta
        (lambda t: t.replace('"format_version":"1"', '"format_version":"\\u00b9"'), "unknown checkpoint format"),
        (lambda t: t.replace('"format":"vae_core"', '"format":"x","format":"vae_core"'), "names 'format' twice"),
        (lambda t: t.replace('\\"kind\\": ', '\\"kind\\": \\"ae\\", \\"kind\\": ', 1), "names 'kind' twice"),
    ],
)
def test_what_python_reads_and_the_library_does_not_is_refused(tmp_path, base, change, words):
    text, body = split(base)
    mutant = change(text)
    assert mutant != text
    path = tmp_path / "m.safetensors"
    path.write_bytes(join(mutant, body))
    assert outcome(path) == "refused"
    with pytest.raises(CheckpointError, match=words):
        vae_core.load_checkpoint(path)
