"""Sweeps against what people do to them: β values that print alike, two sweeps in one folder (one
after the other and at once), a corrupted table, a half-written checkpoint after a kill, and a
fuzzer of bad grids. Checkpoints are made without training where the sweep only has to find them."""

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from support import ROOT

import vae_core
from vae_core.cli import sweep
from vae_core.io.atomic import host_tag
from vae_core.io.header import read_meta
from vae_core.model.config import ModelConfig
from vae_core.model.mlp import VAE
from vae_core.runs.sweep_rows import COLUMNS, row_problem
from vae_core.runs.sweep_table import Table, read_table

TRAIN = ["--dataset", "digits", "--epochs", "1", "--hidden", "8", "--film-frames", "0", "--eval-iw-samples", "2"]


def args_for(out_dir: Path, betas=("1",), dims=("2",), seeds=("0",)) -> list[str]:
    return ["--beta", *betas, "--latent-dim", *dims, "--seeds", *seeds, "--out-dir", str(out_dir), *TRAIN]


def finished_point(argv: list[str], point: sweep.Point) -> Path:
    """A checkpoint the sweep takes as this point done (its settings are the point's), untrained."""
    args = sweep.parse_args(argv)
    expected = sweep.expected_settings(args, point)
    path = Path(args.out_dir) / point.file_name(expected["kind"])
    model = VAE(ModelConfig.from_dict(expected["model_config"]), generator=torch.Generator().manual_seed(0))
    evaluation = {"split": "val", "iw_samples": 2, "recon": 40.0, "kl": 2.0, "neg_elbo": 42.0, "nll_iw": 41.5}
    meta = {"dataset": "digits", "train_config": expected["train_config"], "seed": point.seed, "evaluation": evaluation}
    return vae_core.save_checkpoint(model, path, meta)


def run(argv: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "vae_core.sweep", *argv]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


# --- names: exact β, today's names kept ----------------------------------------------------------


def test_betas_that_print_alike_get_their_own_files(tmp_path, capsys):
    assert sweep.main([*args_for(tmp_path, betas=("0.1", "0.1000001", "1e-7", "1.0000000001e-7")), "--commands"]) == 0
    outs = [line.split("--out ")[1] for line in capsys.readouterr().out.strip().splitlines()]
    assert len(outs) == len(set(outs)) == 4
    assert {Path(o).name for o in outs} >= {"vae-z2-b0.1-s0.safetensors", "vae-z2-b0.1000001-s0.safetensors"}


def test_every_beta_has_one_name_that_reads_back_as_it():
    rng = random.Random(0)
    betas = [rng.uniform(0, 10) for _ in range(2000)] + [rng.choice([0.1, 0.25, 2.0]) + k * 1e-12 for k in range(50)]
    betas += [0.0, 5e-324, 1e-320, 1e4, 0.1 + 0.2]
    names = {sweep.beta_text(b) for b in betas}
    assert len(names) == len(set(betas))
    assert all(float(sweep.beta_text(b)) == b for b in betas)
    assert [sweep.beta_text(b) for b in (0.0, 0.1, 0.5, 1.0, 8.0, 1e-5)] == ["0", "0.1", "0.5", "1", "8", "1e-05"]


def test_the_shipped_sweep_files_keep_their_names():
    folder = ROOT / "checkpoints" / "sweep-mnist5k"
    files = sorted(folder.glob("*.safetensors"))
    assert files
    for path in files:
        meta = read_meta(path)
        point = sweep.Point(meta["model_config"]["beta"], meta["model_config"]["latent_dim"], meta["seed"])
        assert point.file_name(meta["kind"]) == path.name


# --- two sweeps, one folder -------------------------------------------------------------------------


def test_a_second_sweep_in_the_folder_keeps_the_first_ones_points(tmp_path, capsys):
    out = tmp_path / "s"
    first = args_for(out, betas=("0", "1"))
    finished_point(first, sweep.Point(0.0, 2, 0))
    finished_point(first, sweep.Point(1.0, 2, 0))
    second = args_for(out, betas=("4",), seeds=("3",))
    finished_point(second, sweep.Point(4.0, 2, 3))
    assert sweep.main(first) == 0 and sweep.main(second) == 0
    rows = read_table(out)
    assert rows.reason is None and [(r["beta"], r["seed"]) for r in rows] == [(0.0, 0), (1.0, 0), (4.0, 3)]
    assert all(r["status"] == "done" and r["iw_samples"] == 2 for r in rows)
    assert (out / "sweep.csv").read_text().count("\n") == 4


def test_two_sweeps_at_once_in_one_folder_both_land_in_the_table(tmp_path):
    out = tmp_path / "s"
    cmd = [sys.executable, "-m", "vae_core.sweep"]
    procs = [
        subprocess.Popen(
            [*cmd, *args_for(out, betas=(b,)), "--workers", "1"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for b in ("0.1", "0.1000001")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    rows = read_table(out)
    assert rows.reason is None and sorted(r["beta"] for r in rows) == [0.1, 0.1000001]
    assert sorted(r["path"] for r in rows) == ["vae-z2-b0.1-s0.safetensors", "vae-z2-b0.1000001-s0.safetensors"]
    assert all(r["status"] == "done" and r["nll_iw"] is not None for r in rows)


# --- damage left behind -----------------------------------------------------------------------------


def test_a_corrupted_table_and_a_half_written_checkpoint_are_rebuilt(tmp_path):
    out = tmp_path / "s"
    argv = args_for(out, betas=("0", "1"))
    done = finished_point(argv, sweep.Point(0.0, 2, 0))
    half = out / "vae-z2-b1-s0.safetensors"
    half.write_bytes(done.read_bytes()[: len(done.read_bytes()) // 2])  # copied in by hand, cut off by a kill
    stale = out / f".vae-z2-b1-s0.safetensors.999999999-{host_tag()}-abcdefgh.tmp"  # an atomic save's leftover
    stale.write_bytes(b"partial")
    (out / "sweep.json").write_bytes(b'{"rows": [{"beta": 1, "path": "../../etc/passwd"')
    assert read_table(out) == [] and "not valid JSON" in read_table(out).reason
    result = run(argv)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["trained"] == 1
    rows = read_table(out)
    assert rows.reason is None and [(r["beta"], r["status"]) for r in rows] == [(0.0, "done"), (1.0, "done")]
    vae_core.load_checkpoint(half)  # retrained whole
    assert not stale.exists()


def test_failures_stay_listed_until_their_point_is_done(tmp_path):
    out = tmp_path / "s"
    argv = args_for(out, betas=("0", "2"))
    finished_point(argv, sweep.Point(0.0, 2, 0))
    Table(out, 2).refresh(failed={sweep.Point(2.0, 2, 0): "diverged\n at epoch 1"})
    assert [(r["beta"], r["status"]) for r in read_table(out)] == [(0.0, "done"), (2.0, "failed")]
    later = Table(out, 2).refresh()  # another sweep's rebuild keeps the failure it did not see happen
    assert later[-1]["status"] == "failed" and later[-1]["message"] == "diverged? at epoch 1"  # one printable line
    finished_point(argv, sweep.Point(2.0, 2, 0))
    assert sweep.main(argv) == 0
    assert [(r["beta"], r["status"]) for r in read_table(out)] == [(0.0, "done"), (2.0, "done")]


# --- bad grids --------------------------------------------------------------------------------------

HOSTILE = ["nan", "inf", "-inf", "-1", "0", "1e400", "1e-400", "-0.0", "1e5", "9" * 400, "x", "", "0x10", "1_0",
           "2.5", "1025", "5000", "-5", "4294967296", "1e3", " 1", "١"]  # fmt: skip
FLAGS = ["--beta", "--latent-dim", "--seeds", "--workers", "--eval-iw-samples", "--epochs", "--hidden"]


def test_fuzz_bad_grids_are_one_line_and_write_nothing(tmp_path, capsys):
    rng = random.Random(18)
    outcomes = {0: 0, 2: 0}
    for case in range(150):
        values = {"--beta": ["1"], "--latent-dim": ["2"], "--seeds": ["0"]}
        for _ in range(rng.randint(1, 3)):
            values[rng.choice(FLAGS)] = [rng.choice(HOSTILE) for _ in range(rng.randint(1, 3))]
        argv = [x for flag, vs in values.items() for x in (flag, *vs)]
        out = tmp_path / f"case{case}"
        code = sweep.main([*argv, "--out-dir", str(out), "--dataset", "digits", "--commands"])
        captured = capsys.readouterr()
        where = f"case {case}: {argv}"
        assert code in outcomes, where
        outcomes[code] += 1
        assert not out.exists(), where  # --commands writes nothing, a refusal neither
        if code == 2:
            assert len(captured.err.strip().splitlines()) == 1 and captured.err.startswith("error: "), where
        else:
            commands = captured.out.strip().splitlines()
            betas = [float(c.split("--beta ")[1].split()[0]) for c in commands]
            assert all(math.isfinite(b) and b >= 0 for b in betas), where
            assert len({c.split("--out ")[1] for c in commands}) == len(commands), where
    assert outcomes[0] > 5 and outcomes[2] > 50, outcomes


def test_a_non_utf8_out_dir_is_listed_and_read(tmp_path, capsys):
    out = Path(os.fsdecode(bytes(tmp_path) + b"/sweep-\xff"))
    argv = args_for(out)
    finished_point(argv, sweep.Point(1.0, 2, 0))
    assert sweep.main(argv) == 0
    rows = read_table(out)
    assert rows.reason is None and len(rows) == 1 and set(rows[0]) == set(COLUMNS) and row_problem(rows[0]) is None
    (out / "sweep.json").write_bytes(b"\xff\xfe garbage")
    bad = read_table(out)
    assert bad == [] and "sweep-\ufffd/sweep.json: not UTF-8" in bad.reason
    bad.reason.encode("utf-8")


@pytest.mark.parametrize("flag", ["--beta", "--seeds"])
def test_a_huge_grid_is_refused_before_it_is_built(tmp_path, capsys, flag):
    many = [str(i) for i in range(1001)]
    argv = args_for(tmp_path / "s")
    argv[argv.index(flag) + 1] = " ".join(many)
    argv = " ".join(argv).split()
    assert sweep.main([*argv, "--commands"]) == 2
    assert "at most 1,000" in capsys.readouterr().err
