"""Data-parallel training under torchrun: one process per core or GPU, gradients averaged.

    torchrun --standalone --nproc_per_node N -m vae_core.train ... --batch-size B

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; `init()` joins the process group (gloo on CPU,
nccl on CUDA). Every rank holds the whole data set in memory and draws the same permutation
each epoch from the same order stream, then takes its own slice of every global batch of B
images. The random numbers that touch the images (reparameterisation noise, pixel shifts) come
from a separate noise stream per rank (`noise_seed`). So the global batches are those of a
single process in epoch 1 only: the noise, and through it the weights, differ with N from the
first step, and the order stream is shared but the models it feeds are not. The result depends on
N only through that noise (tests/engine/test_ddp.py checks N = 1 against N = 2 within 1 nat).
DistributedDataParallel averages the gradients (Li et al. 2020, "PyTorch Distributed");
`scale_local_loss` makes that average the mean over the global batch even when the last batch
does not split evenly; a last batch with fewer images than ranks is skipped by every rank (and
not counted in the epoch's mean loss). Only rank 0 validates, writes the checkpoint and prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class World:
    rank: int = 0  # this process's index among all processes
    size: int = 1  # number of processes (N)
    local_rank: int = 0  # index on this machine: picks the GPU

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = World()


def world_from_env(env=None) -> World:
    """The process's place in a torchrun job, from the variables torchrun sets (else SINGLE)."""
    env = os.environ if env is None else env
    try:
        size = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", "0"))
    except ValueError:
        raise ValueError("WORLD_SIZE, RANK and LOCAL_RANK must be integers (torchrun sets them).") from None
    if size < 1 or not 0 <= rank < size or local < 0:
        raise ValueError(f"Inconsistent torchrun variables: RANK={rank}, WORLD_SIZE={size}, LOCAL_RANK={local}.")
    return World(rank, size, local)


def noise_seed(seed: int, rank: int) -> int:
    """The seed of rank `rank`'s noise stream: a 32-bit hash of (seed, rank) (NumPy's SeedSequence).

    PyTorch's CPU generator (mt19937) keeps only the low 32 bits of a seed, so offsets above
    2**32 (the old `seed + 2**32 * (rank + 1)`) gave every rank, and the permutation stream, the
    same numbers. The hash differs in those 32 bits for every (seed, rank) pair in practice, and
    N = 1 uses rank 0's, so the noise never replays the permutation's stream either.
    """
    return int(np.random.SeedSequence([seed, rank]).generate_state(1, np.uint32)[0])


def streams(device: torch.device, seed: int, world: World) -> tuple[torch.Generator, torch.Generator]:
    """(order, noise) generators of one rank: the order stream (batch permutation, dynamic
    binarisation) is the same on every rank; the noise stream is this rank's own."""
    order = torch.Generator(device=device).manual_seed(seed)
    return order, torch.Generator(device=device).manual_seed(noise_seed(seed, world.rank))


def init(world: World, device: torch.device) -> torch.device:
    """Join the process group (if N > 1); returns this rank's device (cuda:LOCAL_RANK on GPUs)."""
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank if world.distributed else (device.index or 0))
        torch.cuda.set_device(device)
    if world.distributed and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        kwargs = {"device_id": device} if device.type == "cuda" else {}
        torch.distributed.init_process_group(backend, rank=world.rank, world_size=world.size, **kwargs)
    return device


def shutdown(world: World) -> None:
    if world.distributed and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def local_slice(start: int, stop: int, world: World) -> slice:
    """This rank's contiguous share of the global batch [start, stop) (sizes differ by at most 1)."""
    n = stop - start
    lo = start + n * world.rank // world.size
    hi = start + n * (world.rank + 1) // world.size
    return slice(lo, hi)


def scale_local_loss(loss: torch.Tensor, n_local: int, n_global: int, world: World) -> torch.Tensor:
    """DDP averages gradients over N ranks; weighting each rank's batch-mean loss by
    N * n_local / n_global turns that average into the mean over the global batch."""
    if not world.distributed:
        return loss
    return loss * (world.size * n_local / n_global)


def global_mean(value: torch.Tensor, n_local: int, world: World) -> torch.Tensor:
    """The mean of a per-image quantity over all ranks' images (one small all-reduce)."""
    if not world.distributed:
        return value
    buf = torch.stack([value.detach().float() * n_local, torch.tensor(float(n_local), device=value.device)])
    torch.distributed.all_reduce(buf)
    return buf[0] / buf[1]


class LossForward(nn.Module):
    """Routes `model.loss` through forward(), which DistributedDataParallel hooks to sync gradients."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, generator: torch.Generator, beta_scale: float) -> torch.Tensor:
        return self.model.loss(x, generator, beta_scale=beta_scale).loss


def wrap(model: nn.Module, world: World, device: torch.device):
    """A callable x -> loss: plain `model.loss` in one process, the DDP-wrapped one under torchrun."""
    if not world.distributed:
        return lambda x, gen, beta_scale: model.loss(x, gen, beta_scale=beta_scale).loss
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(LossForward(model), device_ids=ids)
