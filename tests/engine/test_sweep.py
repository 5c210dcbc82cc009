"""The β sweep: a grid of real training processes, killed mid-way (SIGTERM, then SIGKILL) and
resumed; finished points are never retrained and the table ends complete."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support import ROOT

from vae_core.cli import sweep
from vae_core.runs.sweep_table import read_table

GRID = ["--beta", "0", "1", "--latent-dim", "2", "--seeds", "0", "1", "--workers", "1", "--eval-iw-samples", "5"]
TRAIN = ["--dataset", "digits", "--epochs", "2", "--hidden", "32", "--film-frames", "0"]


def start(out_dir: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "vae_core.sweep", *GRID, "--out-dir", str(out_dir), *TRAIN]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_rows(proc: subprocess.Popen, out_dir: Path, n: int) -> list[dict]:
    """Wait (on the table, not on a clock) until n points are done and the next one is training."""
    while True:
        rows = read_table(out_dir)
        training = [p for p in (out_dir / "logs").glob("*.log")] if (out_dir / "logs").exists() else []
        if len(rows) >= n and len(training) > len(rows):
            return rows
        assert proc.poll() is None, proc.communicate()
        threading.Event().wait(0.05)


def children(pid: int) -> list[int]:
    """Child processes of pid (a sweep forks its trainings from worker threads: look in every task)."""
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(c) for c in (task / "children").read_text().split()]
    return kids


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie has ended
    except (FileNotFoundError, ProcessLookupError):
        return True


def stamps(out_dir: Path, rows: list[dict]) -> dict:
    return {r["path"]: (os.stat(out_dir / r["path"]).st_ino, os.stat(out_dir / r["path"]).st_mtime_ns) for r in rows}


def test_a_killed_sweep_resumes_without_retraining_finished_points(tmp_path):
    out = tmp_path / "sweep"
    first = start(out)
    rows = wait_for_rows(first, out, 1)
    first.send_signal(signal.SIGTERM)  # a scheduler's stop: the running training is stopped and cleans up
    _, err = first.communicate(timeout=120)
    assert first.returncode == 143 and "run the same command to resume" in err
    assert not list(out.glob(".*.tmp")) and not list(out.glob("*.tmp"))
    kept = stamps(out, read_table(out))
    assert len(kept) >= 1

    second = start(out)  # resumes, and is killed hard after one more point
    rows = wait_for_rows(second, out, len(kept) + 1)
    orphans = children(second.pid)
    second.kill()
    second.communicate(timeout=60)
    while not all(gone(pid) for pid in orphans):  # the running training dies with its sweep (PDEATHSIG)
        threading.Event().wait(0.05)
    rows = read_table(out)
    assert stamps(out, rows) | kept == stamps(out, rows) and set(kept) < set(stamps(out, rows))
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    done_before = stamps(out, rows)

    third = subprocess.run(
        [sys.executable, "-m", "vae_core.sweep", *GRID, "--out-dir", str(out), *TRAIN],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert third.returncode == 0, third.stderr
    result = json.loads(third.stdout.strip().splitlines()[-1])
    assert result == {**result, "points": 4, "skipped": len(done_before), "trained": 4 - len(done_before), "failed": 0}
    rows = read_table(out)
    assert len(rows) == 4 and all(r["status"] == "done" for r in rows)
    assert {(r["beta"], r["seed"]) for r in rows} == {(0.0, 0), (0.0, 1), (1.0, 0), (1.0, 1)}
    after = stamps(out, rows)
    assert all(after[name] == stamp for name, stamp in done_before.items())  # finished points not retrained
    for r in rows:
        assert r["neg_elbo"] == pytest.approx(r["rate"] + r["distortion"])
        assert r["nll_iw"] is not None and 0 <= r["knn_accuracy"] <= 1
        assert 0 <= r["sample_quality"] <= 1 and r["sample_entropy"] >= 0
    assert (out / "sweep.csv").read_text().count("\n") == 5  # header + 4 rows


def train_point(argv: list[str], point: sweep.Point, path: Path) -> None:
    """Train one grid point in this process, exactly as the sweep's worker would."""
    from vae_core.cli.train import main

    assert main(sweep.train_argv(sweep.parse_args(argv), point, path)) == 0


def test_a_shipped_checkpoint_linked_into_the_folder_counts_as_done(tmp_path, capsys):
    argv = ["--beta", "1", "--latent-dim", "2", "--seeds", "0", "--out-dir", str(tmp_path / "s"), *TRAIN]
    shipped = tmp_path / "shipped" / "vae-z2.safetensors"
    train_point(argv, sweep.Point(1.0, 2, 0), shipped)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "vae-z2-b1-s0.safetensors").symlink_to(Path("..") / "shipped" / "vae-z2.safetensors")
    capsys.readouterr()
    assert sweep.main([*argv, "--eval-iw-samples", "5"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["skipped"] == 1
    row = read_table(tmp_path / "s")[0]
    assert row["path"] == "vae-z2-b1-s0.safetensors" and row["iw_samples"] == 5 and row["nll_iw"] is not None
    assert (tmp_path / "s" / "vae-z2-b1-s0.safetensors").is_symlink()  # still a link, nothing copied


def test_a_file_with_other_settings_is_not_overwritten(tmp_path, capsys):
    argv = ["--beta", "1", "--latent-dim", "2", "--out-dir", str(tmp_path), *TRAIN]
    train_point(argv, sweep.Point(1.0, 2, 0), tmp_path / "vae-z2-b1-s0.safetensors")
    before = (tmp_path / "vae-z2-b1-s0.safetensors").stat().st_mtime_ns
    capsys.readouterr()
    assert sweep.main([*argv[: -len(TRAIN)], *TRAIN[:3], "3", *TRAIN[4:]]) == 2  # --epochs 3 instead of 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists with other settings (epochs 2)" in err[0]
    assert (tmp_path / "vae-z2-b1-s0.safetensors").stat().st_mtime_ns == before


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--beta", "1", "--latent-dim", "2", "--seed", "3"], "set by the sweep"),
        (["--beta", "-1", "--latent-dim", "2"], "beta"),
        (["--beta", "1", "--latent-dim", "2", "--epochs", "0"], "epochs"),
        (["--beta", "1", "--latent-dim", "2", "--workers", "0"], "--workers"),
        (["--beta", "x", "--latent-dim", "2"], "invalid float"),
    ],
)
def test_bad_sweeps_are_one_line_before_any_training(tmp_path, capsys, argv, message):
    assert sweep.main([*argv, "--out-dir", str(tmp_path / "s"), "--dataset", "digits"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "s").exists()


def test_commands_list_one_train_call_per_pending_point(tmp_path, capsys):
    argv = ["--beta", "0", "1", "--latent-dim", "2", "16", "--out-dir", str(tmp_path), "--commands", *TRAIN]
    assert sweep.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and all(" -m vae_core.train " in line and "--out " in line for line in lines)
    assert list(tmp_path.iterdir()) == []
    assert sweep.main([*argv, "--launcher", "torchrun --standalone --nproc_per_node 4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert all(line.startswith("torchrun --standalone --nproc_per_node 4 -m vae_core.train ") for line in lines)
