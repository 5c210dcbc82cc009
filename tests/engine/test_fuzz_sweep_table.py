"""sweep.json is untrusted: read_table never raises, returns only rows of the right types and
ranges (with the known columns only, a path that stays in the folder, UTF-8 text), and says why
when the table or some of its rows are unusable. Seeded structure-aware and byte-level mutants."""

import json
import os
import random

import pytest

from vae_core.runs.sweep_rows import COLUMNS, MAX_TABLE_BYTES, SweepRows, read_table, row_problem

SEED = 18
DEEP = "[" * 100_000 + "]" * 100_000
HOSTILE = [
    "null", "true", "false", "0", "-1", "1", "2.5", "1e30", "-1e30", "1e400", "Infinity", "-Infinity", "NaN",
    "9" * 5000, '""', '"x"', '"done"', '"failed"', '"../x.safetensors"', '"/etc/passwd"', '"a/b"', '"."', '".."',
    '"\\udc80.safetensors"', '"nul\\u0000"', json.dumps("a" * 5000), "[]", "{}", "[1]", '{"a": 1}', DEEP,
    '{"rows": []}', "[[[[[[1]]]]]]", "1025", "4294967296", "-0.0", "1e4", "10001",
]  # fmt: skip


def row(beta=1.0, d=2, seed=0, status="done", **kw) -> dict:
    base = {**dict.fromkeys(COLUMNS), "beta": beta, "latent_dim": d, "seed": seed, "status": status}
    if status == "done":
        base |= {"rate": 3.2, "distortion": 40.1, "neg_elbo": 43.3, "nll_iw": 42.9, "active_units": 2,
                 "knn_accuracy": 0.7, "iw_samples": 100, "epochs": 5, "kind": "vae", "dataset": "digits",
                 "message": "", "path": f"vae-z{d}-b{beta:g}-s{seed}.safetensors"}  # fmt: skip
    else:
        base["message"] = "diverged"
    return base | kw


def good_table() -> dict:
    return {"columns": list(COLUMNS), "rows": [row(0.0), row(1.0), row(4.0, 16), row(2.0, status="failed")]}


def check(rows, where: str):
    assert isinstance(rows, SweepRows) and isinstance(rows, list), where
    assert rows.reason is None or (isinstance(rows.reason, str) and "\n" not in rows.reason), where
    if rows.reason is not None:
        rows.reason.encode("utf-8")
    for r in rows:
        assert list(r) == list(COLUMNS) and row_problem(r) is None, where
        assert r["path"] is None or ("/" not in r["path"] and r["path"] not in (".", "..")), where


def splice(table: dict, rng: random.Random) -> str:
    """The table's JSON with one value replaced by hostile JSON text (json.dumps cannot write it)."""
    marker = "@@HOSTILE@@"
    dicts = [r for r in table["rows"] if isinstance(r, dict)]
    op = rng.randrange(5) if dicts else rng.choice([2, 4])
    if op == 0:
        rng.choice(dicts)[rng.choice([*COLUMNS, "extra_field"])] = marker
    elif op == 1:
        table["rows"][rng.randrange(len(table["rows"]))] = marker
    elif op == 2:
        table["rows"] = marker
    elif op == 3:
        rng.choice(dicts).pop(rng.choice(COLUMNS), None)
    else:
        table = marker
    return json.dumps(table).replace(f'"{marker}"', rng.choice(HOSTILE))


def test_structured_mutants_never_raise_and_keep_only_valid_rows(tmp_path):
    rng = random.Random(SEED)
    outcomes = {"all rows": 0, "some rows": 0, "no rows": 0}
    for case in range(1500):
        text = splice(good_table(), rng)
        if rng.random() < 0.3:
            text = splice(json.loads(text) if _plain(text) else good_table(), rng)
        (tmp_path / "sweep.json").write_text(text, encoding="utf-8", errors="surrogatepass")
        rows = read_table(tmp_path)
        check(rows, f"seed {SEED}, case {case}: {text[:200]}")
        outcomes["all rows" if rows.reason is None else "some rows" if rows else "no rows"] += 1
    assert min(outcomes.values()) > 50, outcomes


def _plain(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict) and isinstance(json.loads(text).get("rows"), list)
    except (ValueError, RecursionError):
        return False


def test_byte_mutants_never_raise(tmp_path):
    rng = random.Random(SEED)
    data = json.dumps(good_table(), indent=1).encode()
    for case in range(1500):
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            op = rng.randrange(4)
            if op == 0 and b:
                b[rng.randrange(len(b))] = rng.randrange(256)
            elif op == 1:
                del b[rng.randrange(len(b) + 1) :]
            elif op == 2:
                b[rng.randrange(len(b) + 1) : 0] = rng.choice([b"\xff", b"\xc3", b"[", b"{", b"\x00", b'"', b"\\u"])
            else:
                i = rng.randrange(len(b) + 1)
                b[i:i] = b[: rng.randrange(64)]
        (tmp_path / "sweep.json").write_bytes(bytes(b))
        check(read_table(tmp_path), f"seed {SEED}, case {case}: {bytes(b)[:200]!r}")


@pytest.mark.parametrize(
    "table, words",
    [
        ({"rows": {"0": row()}}, "no list of rows"),
        ([row()], "no list of rows"),
        ({"rows": ["vae-z2-b1-s0.safetensors"]}, "row 1: a str, not a row"),
        ({"rows": [row(), {**row(), "beta": "1"}]}, "1 of 2 rows unusable (row 2: beta is '1')"),
        ({"rows": [row(latent_dim=2.0)]}, "latent_dim is 2.0"),
        ({"rows": [{**row(), "seed": None}]}, "seed is None"),
        ({"rows": [row(nll_iw=[1, 2])]}, "nll_iw is list"),
        ({"rows": [row(status="ok")]}, "status is 'ok'"),
        ({"rows": [row(path="../../etc/passwd")]}, "path is '../../etc/passwd'"),
        ({"rows": [row(path=None)]}, "path is None"),
        ({"rows": [row(dataset="\udc80")]}, "dataset is"),
    ],
)
def test_each_kind_of_bad_table_gets_its_reason(tmp_path, table, words):
    (tmp_path / "sweep.json").write_text(json.dumps(table), encoding="utf-8", errors="surrogatepass")
    rows = read_table(tmp_path)
    assert words in rows.reason and rows.reason.startswith(f"{tmp_path.name}/sweep.json: ")
    assert rows == [row()] if words.startswith("1 of 2") else rows == []


def test_deep_huge_and_strange_files_are_refused_with_a_reason(tmp_path):
    (tmp_path / "sweep.json").write_text('{"rows": ' + DEEP + "}")
    assert "not valid JSON" in read_table(tmp_path).reason
    (tmp_path / "sweep.json").write_bytes(b'{"rows": [' + b" " * MAX_TABLE_BYTES + b"]}")
    assert "limit" in read_table(tmp_path).reason
    (tmp_path / "sweep.json").write_bytes(b'{"rows": [{"path": "\xff.safetensors"}]}')
    assert "not UTF-8" in read_table(tmp_path).reason
    (tmp_path / "sweep.json").unlink()
    assert read_table(tmp_path) == [] and read_table(tmp_path).reason is None  # no table yet: not an error
    os.mkfifo(tmp_path / "sweep.json")  # would block a plain open() forever
    assert "not a regular file" in read_table(tmp_path).reason
    os.unlink(tmp_path / "sweep.json")
    (tmp_path / "sweep.json").mkdir()
    assert "not a regular file" in read_table(tmp_path).reason
    os.rmdir(tmp_path / "sweep.json")
    os.symlink("sweep.json", tmp_path / "sweep.json")  # a loop
    assert read_table(tmp_path).reason is not None


def test_a_valid_table_is_read_whole():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "sweep.json").write_text(json.dumps({**good_table(), "future_key": {"x": [1]}}))
        rows = read_table(d)
    assert rows.reason is None and rows == good_table()["rows"]
