"""Byte-mutation fuzzing of IDX dataset files (plain and gzipped): every mutant reads as a
consistent array or gives one DatasetUnavailable naming the file. Seeded: a failure names its case."""

import gzip
import random

import numpy as np
import pytest

import vae_core.data.datasets as data
from vae_core.data import DatasetUnavailable, load_dataset
from vae_core.data.idx import read_idx

SEED = 0


def idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return header + arr.astype(np.uint8).tobytes()


def mutate(rng: random.Random, b: bytes) -> bytes:
    b = bytearray(b)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(5)
        at = rng.randrange(len(b)) if b else 0
        if op == 0:  # the header is where the trouble is: magic, ndim, sizes
            at = rng.randrange(min(len(b), 20)) if b and rng.random() < 0.7 else at
            b[at : at + 1] = bytes([rng.randrange(256)])
        elif op == 1:
            del b[rng.randrange(len(b) + 1) :]
        elif op == 2:
            b[at:at] = rng.randbytes(rng.randrange(1, 16))
        elif op == 3:
            del b[at : at + rng.randrange(1, 16)]
        else:  # a size field set to an interesting number
            pos = 4 + 4 * rng.randrange(3)
            b[pos : pos + 4] = rng.choice([0, 1, 27, 29, 2**16, 2**31, 2**32 - 1]).to_bytes(4, "big")
    return bytes(b)


def check_read(path, what: str) -> str:
    try:
        arr = read_idx(path)
    except DatasetUnavailable as e:
        assert str(path) in str(e) and "\n" not in str(e), what
        return "refused"
    except Exception as e:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{what}: {type(e).__name__}: {e}"[:400])
    assert arr.dtype == np.uint8 and arr.ndim >= 1, what
    return "read"


def test_mutated_idx_files_read_or_give_one_line(tmp_path):
    rng = random.Random(SEED)
    nprng = np.random.default_rng(SEED)
    seeds = {
        "images": idx_bytes(nprng.integers(0, 256, (5, 28, 28))),
        "labels": idx_bytes(np.arange(5) % 10),
    }
    outcomes = {"read": 0, "refused": 0}
    for case in range(3000):
        kind, gz = rng.choice(sorted(seeds)), rng.random() < 0.5
        blob = mutate(rng, seeds[kind])
        if gz:
            blob = gzip.compress(blob) if rng.random() < 0.7 else mutate(rng, gzip.compress(blob))
        path = tmp_path / (f"{kind}-{case}-idx-ubyte" + (".gz" if gz else ""))
        path.write_bytes(blob)  # a new file each time: truncating one in place is 10x slower here
        outcomes[check_read(path, f"seed {SEED}, case {case}, {kind}, gz={gz}")] += 1
        path.unlink()
    assert outcomes["read"] > 100 and outcomes["refused"] > 1000, outcomes


def test_mutated_dataset_folders_load_or_give_one_line(tmp_path, monkeypatch):
    """The whole load_dataset path: images and labels that each may be damaged or disagree."""
    monkeypatch.setattr(data, "_try_download", lambda name, root: pytest.fail("tried to download"))
    rng = random.Random(SEED)
    nprng = np.random.default_rng(SEED)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    good = {
        "t10k-images-idx3-ubyte": idx_bytes(nprng.integers(0, 256, (20, 28, 28))),
        "t10k-labels-idx1-ubyte": idx_bytes(np.arange(20) % 10),
    }
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(600):
        for name, blob in good.items():
            (raw / name).unlink(missing_ok=True)  # a new file each time: truncating in place is slow here
            (raw / name).write_bytes(mutate(rng, blob) if rng.random() < 0.6 else blob)
        try:
            d = load_dataset("mnist", "test", tmp_path)
        except DatasetUnavailable as e:
            assert str(raw) in str(e) and "\n" not in str(e), f"case {case}: {e}"
            outcomes["refused"] += 1
            continue
        except Exception as e:  # noqa: BLE001 - the point of the test
            pytest.fail(f"seed {SEED}, case {case}: {type(e).__name__}: {e}"[:400])
        assert d.images.shape == (len(d), 1, 28, 28) and int(d.labels.max()) <= 9, f"case {case}"
        outcomes["loaded"] += 1
    assert outcomes["loaded"] > 50 and outcomes["refused"] > 100, outcomes
