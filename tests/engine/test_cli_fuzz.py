"""Fuzz both command lines in-process: every bad value is exit code 2, one line on stderr, no
traceback, and nothing written. Cases are drawn from a fixed seed, so a failure reproduces."""

import random

import pytest
import torch

from vae_core.cli import evaluate, train

BASE_TRAIN = ["--dataset", "digits", "--epochs", "1", "--hidden", "16", "--latent-dim", "2"]
BASE_TRAIN += ["--out", "{tmp}/m.safetensors"]
BAD_TRAIN = {
    "--epochs": ["0", "-1", "10001", "1e3", "2.5", "nan", "", "x", str(2**64), "2**64"],
    "--batch-size": ["0", "-5", "65537", "1.5", "inf", str(10**12)],
    "--lr": ["0", "-1e-3", "nan", "inf", "-inf", "1e12", "11", "abc", "1e-9"],
    "--seed": ["-1", str(2**64), "2**64", "1.5", str(2**32), "nan"],
    "--warmup-epochs": ["nan", "inf", "-1", "1e9", "x"],
    "--augment-shift": ["-1", "9", str(10**6), "0.5"],
    "--latent-dim": ["0", "-3", "x", "1.5", str(10**12)],
    "--hidden": ["0", "-1", "x", str(10**9)],
    "--beta": ["nan", "-1", "inf", "x"],
    "--sigma-dec": ["0", "-1", "nan"],
    "--mc-samples": ["0", "-1", str(10**9)],
    "--device": ["gpu", "cuda:x", "tpu", "", "cpu:0"] + ([] if torch.cuda.is_available() else ["cuda", "cuda:3"]),
    "--precision": ["fp8", "", "FP32"],
    "--schedule": ["linear"],
    "--dataset": ["nope", "", "MNIST"],
    "--model": ["vq"],
    "--likelihood": ["poisson"],
    "--activation": ["gelu"],
    "--save-dtype": ["int8", "bfloat16"],
    "--film-frames": ["-1", "1001", "x"],
    "--eval-iw-samples": ["-1", str(10**9), "x"],
    "--out": ["{tmp}", "/dev/null/x.safetensors", "{tmp}/" + "a" * 300, "", "{tmp}/nul\x00byte", "{tmp}/."],
}
BAD_EVAL = {
    "checkpoint": ["{tmp}/missing.safetensors", "{tmp}", "{tmp}/pickle.pt", "{tmp}/empty.safetensors", "/dev/null"],
    "--iw-samples": ["0", "-1", "100001", "x", "1.5", str(2**64)],
    "--seed": ["-1", str(2**64), "x"],
    "--dataset": ["nope", "mnist5k", "fashion"],  # the last two: 28x28 images for an 8x8 model
    "--split": ["nope", "test"],  # digits has no test split
    "--device": ["gpu", "tpu:0"] + ([] if torch.cuda.is_available() else ["cuda"]),
}
# Data roots that cannot hold the data set (a file, a device, a NUL byte, a truncated IDX file)
BAD_ROOTS = ["{tmp}/pickle.pt", "/dev/null", "{tmp}/nul\x00root", "{tmp}/broken"]


def one_line_exit_2(capsys, fn, argv):
    code = fn(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (argv, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
    assert "Traceback" not in err
    return lines[0]


def train_cases(n_random=140):
    single = [(flag, v) for flag, values in BAD_TRAIN.items() for v in values]
    rng = random.Random(0)
    pairs = [tuple(rng.sample(single, 2)) for _ in range(n_random)]
    return [[case] for case in single] + [list(p) for p in pairs if p[0][0] != p[1][0]]


def apply(base, changes, tmp):
    argv = list(base)
    for flag, value in changes:
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return [a.replace("{tmp}", str(tmp)) for a in argv]


def test_train_cli_fuzz(tmp_path, capsys):
    cases = train_cases()
    assert len(cases) > 200
    for changes in cases:
        one_line_exit_2(capsys, train.main, apply(BASE_TRAIN, changes, tmp_path))
        assert list(tmp_path.iterdir()) == [], changes
    for argv in ([], ["--out"], ["--epoch", "3", "--out", "x"], ["positional", "--out", str(tmp_path / "m")]):
        one_line_exit_2(capsys, train.main, argv)
    too_big = ["--hidden", *["8192"] * 16, "--mc-samples", "1000", "--batch-size", "65536"]  # each value in bounds
    line = one_line_exit_2(capsys, train.main, apply(BASE_TRAIN, [], tmp_path) + too_big)
    assert "of memory to train" in line
    for root in ("/proc/version", "/dev/null", "{tmp}/nul\x00root"):
        argv = apply(BASE_TRAIN, [("--dataset", "mnist"), ("--data-root", root)], tmp_path)
        one_line_exit_2(capsys, train.main, argv)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-eval")
    path = folder / "m.safetensors"
    assert train.main(apply(BASE_TRAIN, [("--film-frames", "0")], folder)) == 0
    return path


def test_evaluate_cli_fuzz(tmp_path, capsys, tiny_checkpoint):
    import pickle
    import shutil

    shutil.copy(tiny_checkpoint, tmp_path / "m.safetensors")
    (tmp_path / "pickle.pt").write_bytes(pickle.dumps({"a": 1}))
    (tmp_path / "empty.safetensors").write_bytes(b"")
    raw = tmp_path / "broken" / "MNIST" / "raw"  # IDX files that are cut short
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / name).write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 9]))
    before = sorted(p.name for p in tmp_path.iterdir())
    single = [(flag, v) for flag, values in BAD_EVAL.items() for v in values]
    rng = random.Random(1)
    cases = [[c] for c in single] + [rng.sample(single, 2) for _ in range(60)]
    for changes in cases:
        ckpt = next((v for f, v in changes if f == "checkpoint"), "{tmp}/m.safetensors")
        flags = [(f, v) for f, v in changes if f != "checkpoint"]
        if len({f for f, _ in flags}) < len(flags):
            continue
        one_line_exit_2(capsys, evaluate.main, apply([ckpt, "--iw-samples", "2"], flags, tmp_path))
    for root in BAD_ROOTS:
        for name in ("mnist", "fashion"):
            argv = ["{tmp}/m.safetensors", "--dataset", name, "--data-root", root, "--split", "train"]
            one_line_exit_2(capsys, evaluate.main, apply(argv, [], tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    capsys.readouterr()
    assert evaluate.main([str(tmp_path / "m.safetensors"), "--iw-samples", "2"]) == 0  # the base case works
