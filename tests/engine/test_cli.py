"""The two command lines, run as a user runs them: a subprocess, JSON on the last stdout line."""

import json
import subprocess
import sys

import pytest
from support import ROOT

import vae_core


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "digits-vae.safetensors"
    r = run(
        "vae_core.train",
        "--model",
        "vae",
        "--latent-dim",
        "2",
        "--hidden",
        "64",
        "32",
        "--beta",
        "1",
        "--likelihood",
        "bernoulli",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--lr",
        "1e-3",
        "--seed",
        "0",
        "--dataset",
        "digits",
        "--out",
        str(out),
    )
    return out, r


def test_train_cli_runs_one_epoch_on_digits(trained):
    out, r = trained
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("recon", "kl", "neg_elbo", "n_train", "samples_per_s"):
        assert key in result
    assert result["n_train"] == len(vae_core.load_dataset("digits", "train")) and result["samples_per_s"] > 0
    assert "batch" in r.stderr  # tqdm progress on stderr
    model, meta = vae_core.load_checkpoint(out)
    assert meta["dataset"] == "digits" and meta["train_config"]["epochs"] == 1
    assert model.config.image_shape == (1, 8, 8)


def test_evaluate_cli_prints_the_documented_keys(trained):
    out, _ = trained
    r = run("vae_core.evaluate", str(out), "--iw-samples", "20")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("neg_elbo", "recon", "kl", "nll_iw", "active_units", "knn_accuracy", "n"):
        assert key in result, key
    assert result["split"] == "val" and result["n"] == len(vae_core.load_dataset("digits", "val"))
    assert result["nll_iw"] <= result["neg_elbo"] + 1.0  # the IW bound is at least as tight


@pytest.mark.parametrize(
    "args,message",
    [
        (["--latent-dim", "0"], "latent size"),
        (["--beta", "-1"], "beta"),
        (["--epochs", "0"], "epochs"),
        (["--dataset", "nope"], "Unknown dataset"),
        (["--dataset", "mnist", "--data-root", "{tmp}/no-mnist-here"], "not available offline"),
    ],
)
def test_invalid_settings_exit_non_zero_with_one_line(tmp_path, args, message):
    out = tmp_path / "x.safetensors"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    r = run("vae_core.train", "--dataset", "digits", "--epochs", "1", *args, "--out", str(out))
    assert r.returncode != 0
    lines = [line for line in r.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in r.stderr
    assert not out.exists()


def test_diverging_training_writes_nothing(tmp_path):
    out = tmp_path / "x.safetensors"
    r = run("vae_core.train", "--dataset", "digits", "--epochs", "30", "--lr", "10", "--out", str(out))
    assert r.returncode != 0 and "diverged" in r.stderr and not out.exists()


def test_evaluate_refuses_a_pickle_cleanly(tmp_path):
    import pickle

    bad = tmp_path / "m.pt"
    bad.write_bytes(pickle.dumps({"a": 1}))
    r = run("vae_core.evaluate", str(bad))
    assert r.returncode != 0 and "pickle" in r.stderr and "Traceback" not in r.stderr


def test_dry_run_checks_the_set_up_quickly(tmp_path):
    out = tmp_path / "dry.safetensors"
    r = run("vae_core.train", "--dataset", "digits", "--dry-run", "--out", str(out))
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["epochs"] == 1 and result["n_train"] == 4 * 64
    assert vae_core.load_checkpoint(out)[1]["train_config"]["epochs"] == 1


SIGTERM_DURING_SAVE = """
import os, signal, sys
real_fsync = os.fsync

def fsync(fd):  # the moment a scheduler's SIGTERM hurts most: the temporary file is half-synced
    os.kill(os.getpid(), signal.SIGTERM)
    real_fsync(fd)

os.fsync = fsync
from vae_core.cli.train import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_the_save_leaves_no_temporary_file(tmp_path):
    r = subprocess.run(
        [sys.executable, "-c", SIGTERM_DURING_SAVE, "--dataset", "digits", "--epochs", "1", "--hidden", "16",
         "--out", str(tmp_path / "m.safetensors")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 143, r.stderr[-2000:]  # 128 + SIGTERM, as a shell reports it
    assert r.stderr.strip().splitlines()[-1] == "error: terminated by SIGTERM; nothing was saved."
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []  # neither the checkpoint nor .m.safetensors.*.tmp


def test_sigterm_during_training_exits_cleanly_and_writes_nothing(tmp_path):
    import signal

    p = subprocess.Popen(
        [sys.executable, "-m", "vae_core.train", "--dataset", "digits", "--epochs", "10000", "--hidden", "16",
         "--out", str(tmp_path / "m.safetensors")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    seen = b""
    while b"epoch=" not in seen:  # training has begun (tqdm shows the epoch): the handler is in place
        chunk = p.stderr.read(1)
        assert chunk, seen.decode(errors="replace")[-2000:]
        seen += chunk
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 143
    assert "terminated by SIGTERM" in err.decode() and b"Traceback" not in err and out == b""
    assert list(tmp_path.iterdir()) == []
