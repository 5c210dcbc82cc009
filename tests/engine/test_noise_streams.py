"""Per-rank noise streams under torchrun, and the epoch's mean over the images actually used.

PyTorch's CPU generator keeps only the low 32 bits of a seed, so seeds that differ above them
(the old `seed + 2**32 * (rank + 1)`) gave every rank the same eps and the same pixel shifts.
"""

import pytest
import torch

from vae_core.data.datasets import Dataset
from vae_core.model.posterior import Posterior
from vae_core.training import distributed
from vae_core.training.config import TrainConfig
from vae_core.training.distributed import World
from vae_core.training.trainer import Trainer

CPU = torch.device("cpu")


def eps_of(gen: torch.Generator) -> torch.Tensor:
    return Posterior(torch.zeros(8, 4), torch.zeros(8, 4)).sample_with_noise(gen)[1]


@pytest.mark.parametrize("seed", [0, 7, 2**32 - 1])
def test_two_ranks_draw_different_eps_and_neither_replays_the_order_stream(seed):
    order0, noise0 = distributed.streams(CPU, seed, World(0, 2))
    order1, noise1 = distributed.streams(CPU, seed, World(1, 2))
    assert torch.equal(torch.randperm(50, generator=order0), torch.randperm(50, generator=order1))  # same batches
    e0, e1 = eps_of(noise0), eps_of(noise1)
    assert not torch.allclose(e0, e1)
    order_eps = eps_of(distributed.streams(CPU, seed, World(0, 2))[0])
    assert not torch.allclose(e0, order_eps) and not torch.allclose(e1, order_eps)


def test_one_process_has_its_own_noise_stream_equal_to_rank_zeros():
    order, noise = distributed.streams(CPU, 3, distributed.SINGLE)
    assert order is not noise
    assert torch.equal(eps_of(noise), eps_of(distributed.streams(CPU, 3, World(0, 4))[1]))


def test_noise_seeds_differ_where_the_cpu_generator_looks():
    seeds = {distributed.noise_seed(s, r) % 2**32 for s in range(20) for r in range(8)}
    assert len(seeds) == 160 and not seeds & set(range(20))


class ConstantLoss(torch.nn.Module):
    """Every image costs 5 nats: an epoch's mean loss is 5 whatever was skipped."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))

    def loss(self, x, generator=None, beta_scale=1.0):
        return type("Terms", (), {"loss": self.w * 0 + 5.0})()


def test_a_skipped_last_batch_is_not_counted_in_the_epochs_mean(monkeypatch):
    # 9 images, batches of 4 on 2 ranks: 4 + 4 + 1, and the batch of 1 cannot be split.
    monkeypatch.setattr(distributed, "wrap", lambda model, world, device: lambda x, g, b: model.loss(x, g, b).loss)
    monkeypatch.setattr(distributed, "global_mean", lambda value, n, world: value)  # no process group here
    data = Dataset("t", "train", torch.rand(9, 1, 2, 2), torch.zeros(9, dtype=torch.long), ("a",))
    cfg = TrainConfig(epochs=1, batch_size=4, augment_shift=0, film_frames=0, precision="fp32", device="cpu")
    trainer = Trainer(ConstantLoss(), cfg, data, world=World(0, 2), device="cpu")
    steps = []
    trainer.add_callback("on_batch_end", lambda t: steps.append(t.step))
    history = trainer.run()
    assert steps == [1, 2]  # the batch of one was skipped
    assert history[0]["train_loss"] == pytest.approx(5.0)
