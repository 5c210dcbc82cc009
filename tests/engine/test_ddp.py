"""torchrun with N = 1 and N = 2 processes (gloo on CPU) trains to the same model, within noise."""

import json
import os
import subprocess
import sys

import pytest
import torch
from support import ROOT

import vae_core
from vae_core.training import distributed
from vae_core.training.distributed import World

ARGS = [
    "--dataset", "digits", "--model", "vae", "--latent-dim", "4", "--hidden", "64", "--epochs", "12",
    "--batch-size", "32", "--lr", "5e-3", "--augment-shift", "0", "--precision", "fp32", "--film-frames", "0",
]  # fmt: skip


def test_n1_and_n2_processes_reach_the_same_validation_elbo(tmp_path, capsys, monkeypatch):
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    from vae_core.cli.train import main

    assert main([*ARGS, "--out", str(tmp_path / "n1.safetensors")]) == 0
    one = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    r = subprocess.run(
        [*cmd, "-m", "vae_core.train", *ARGS, "--out", str(tmp_path / "n2.safetensors")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, r.stdout  # only rank 0 prints
    two = json.loads(lines[0])
    assert one["world_size"] == 1 and two["world_size"] == 2
    untrained = vae_core.load_checkpoint(tmp_path / "n2.safetensors")[1]["history"][0]["train_loss"]
    assert two["neg_elbo"] < untrained - 5 and one["neg_elbo"] < untrained - 5  # both learned
    assert abs(one["neg_elbo"] - two["neg_elbo"]) < 1.0, (one, two)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n1.safetensors", "n2.safetensors"]  # rank 1 wrote nothing
    assert vae_core.load_checkpoint(tmp_path / "n2.safetensors")[1]["world_size"] == 2


@pytest.mark.parametrize("n,size", [(2, 32), (2, 17), (3, 64), (4, 5)])
def test_ranks_split_every_global_batch_exactly(n, size):
    slices = [distributed.local_slice(10, 10 + size, World(r, n)) for r in range(n)]
    covered = [i for s in slices for i in range(s.start, s.stop)]
    assert covered == list(range(10, 10 + size))  # disjoint, in order, nothing lost
    assert max(s.stop - s.start for s in slices) - min(s.stop - s.start for s in slices) <= 1


def test_scaled_local_losses_average_to_the_global_batch_mean():
    per_image = torch.arange(17, dtype=torch.float64)  # a global batch of 17 split 9 + 8
    world = [World(r, 2) for r in range(2)]
    parts = [per_image[distributed.local_slice(0, 17, w)] for w in world]
    scaled = [distributed.scale_local_loss(p.mean(), len(p), 17, w) for p, w in zip(parts, world, strict=True)]
    assert torch.isclose(sum(scaled) / 2, per_image.mean())  # what DDP's gradient average sees


def test_world_from_env_reads_torchrun_variables_and_refuses_nonsense():
    assert distributed.world_from_env({}) == distributed.SINGLE
    assert distributed.world_from_env({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"}) == World(3, 4, 1)
    with pytest.raises(ValueError, match="Inconsistent"):
        distributed.world_from_env({"WORLD_SIZE": "2", "RANK": "2"})
    with pytest.raises(ValueError, match="integers"):
        distributed.world_from_env({"WORLD_SIZE": "two"})
