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

import contextlib
import datetime
import functools
import gc
import os
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

DEFAULT_TIMEOUT_S = 300.0  # the longest any rank waits for the others (rendezvous and collectives)
MAX_WORLD_SIZE = 65_536  # processes in one job: far beyond any cluster this trains on
GRACE_S = 30.0  # beyond torch's own timeout, before the rendezvous is given up from outside


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
    raw = {name: env.get(name, default) for name, default in (("WORLD_SIZE", "1"), ("RANK", "0"), ("LOCAL_RANK", "0"))}
    shown = ", ".join(f"{k}={_short(v, 24)!r}" for k, v in raw.items())
    try:
        size, rank, local = (int(v) for v in raw.values())
    except ValueError:
        raise ValueError(
            f"WORLD_SIZE, RANK and LOCAL_RANK must be integers (torchrun sets them), not {shown}."
        ) from None
    if not 1 <= size <= MAX_WORLD_SIZE or not 0 <= rank < size or not 0 <= local < size:
        raise ValueError(
            f"Inconsistent torchrun variables: {shown} (WORLD_SIZE from 1 to {MAX_WORLD_SIZE:,}, "
            "RANK and LOCAL_RANK from 0 to WORLD_SIZE - 1)."
        )
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


def init(world: World, device: torch.device, timeout_s: float = DEFAULT_TIMEOUT_S) -> torch.device:
    """Join the process group (if N > 1); returns this rank's device (cuda:LOCAL_RANK on GPUs).

    Every wait is bounded by `timeout_s`: the rendezvous (torch raises when the peers have not all
    joined, or the master address answers nothing, within it) and every later collective (a peer
    that stalls). The rank says on stderr what it waits for, and the wait runs in a helper thread
    so that SIGTERM, handled in the main thread, ends it at once (a rank blocked in the C++
    rendezvous never returns to Python to run a signal handler).
    """
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank if world.distributed else (device.index or 0))
        torch.cuda.set_device(device)
    if world.distributed and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        kwargs = {"device_id": device} if device.type == "cuda" else {}
        where = rendezvous_address()
        print(
            f"rank {world.rank} of {world.size}: waiting up to {timeout_s:g} s for all {world.size} processes "
            f"to join at {where} (SIGTERM stops the wait).",
            file=sys.stderr,
            flush=True,
        )
        join = functools.partial(
            torch.distributed.init_process_group,
            backend,
            rank=world.rank,
            world_size=world.size,
            timeout=datetime.timedelta(seconds=timeout_s),
            **kwargs,
        )
        try:
            _wait_interruptibly(join, timeout_s + GRACE_S)
        except TimeoutError:
            raise PeerError(
                f"rank {world.rank} of {world.size}: the process group did not form within {timeout_s:g} s at "
                f"{where}; start every rank, and check MASTER_ADDR, MASTER_PORT and the network."
            ) from None
        except (RuntimeError, ValueError) as e:  # torch's own timeout, a refused address, a bad port
            raise PeerError(
                f"rank {world.rank} of {world.size}: could not join the process group at {where} "
                f"within {timeout_s:g} s: {_first_line(e)}"
            ) from None
    return device


class PeerError(RuntimeError):
    """The process group did not form, or a peer stopped or stalled: one line, nothing saved."""


def rendezvous_address(env=None) -> str:
    """Where the ranks meet, for messages (torchrun sets MASTER_ADDR and MASTER_PORT)."""
    env = os.environ if env is None else env
    return f"{_short(env.get('MASTER_ADDR', '(MASTER_ADDR unset)'))}:{_short(env.get('MASTER_PORT', '(unset)'))}"


def _wait_interruptibly(fn, deadline_s: float) -> None:
    """fn() in a daemon thread, the main thread waiting in short joins: a Python signal handler
    (SIGTERM -> Terminated) runs between them. TimeoutError after deadline_s; fn's error re-raised."""
    errors: list[BaseException] = []

    def target():
        try:
            fn()
        except BaseException as e:  # handed to the main thread
            errors.append(e)

    thread = threading.Thread(target=target, name="rendezvous", daemon=True)
    thread.start()
    end = time.monotonic() + deadline_s
    while thread.is_alive():
        if time.monotonic() > end:
            raise TimeoutError
        thread.join(0.2)
    if errors:
        raise errors[0]


@contextlib.contextmanager
def exchange(world: World):
    """Around a step's collectives (DDP's gradient all-reduce, the loss's): a failure there (a peer
    died, stalled past the timeout, or its machine vanished) becomes one PeerError line that says
    so; torch raises it as a bare RuntimeError with gloo's or NCCL's text."""
    try:
        yield
    except RuntimeError as e:
        if not world.distributed or isinstance(e, PeerError):
            raise
        raise PeerError(
            f"rank {world.rank} of {world.size}: an exchange with the other processes failed during training "
            f"(one stopped, stalled past the timeout, or its machine is unreachable); nothing was saved. "
            f"({_first_line(e)})"
        ) from None


def _first_line(error: BaseException, n: int = 300) -> str:
    text = str(error).strip().splitlines()
    return _short(text[0] if text else type(error).__name__, n)


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def finish(world: World) -> None:
    """After the last step, before rank 0's save: every rank waits until all have ended their
    collectives, so none tears its sockets down under a peer still in one. (A rank that ran ahead
    to its exit while rank 0 was still busy aborted once in C++, "terminate called without an
    active exception", and torchrun then killed rank 0 before it saved.)"""
    if world.distributed and torch.distributed.is_initialized():
        with exchange(world):
            torch.distributed.barrier()


def shutdown(world: World) -> None:
    if world.distributed and torch.distributed.is_initialized():
        gc.collect()  # DDP's reducer holds the group: let it go first, not at interpreter exit
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
    with exchange(world):  # DDP broadcasts rank 0's weights: the first exchange
        return nn.parallel.DistributedDataParallel(LossForward(model), device_ids=ids)
