"""A model-agnostic Trainer and the `python -m vae_core.train` command line.

The Trainer knows nothing about VAEs (after minGPT's): it asks the model for `loss(x)` and
reports through callbacks, so the CLI feeds a tqdm bar and the app feeds a progress bar from
the same loop. The data set moves to the device once, as one tensor; batches are sliced there,
and the random numbers are drawn there too (a generator on the device). Under torchrun each
process trains on its slice of every global batch (vae_core.distributed).
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict

import torch

from . import distributed
from .data import Dataset
from .device import autocast, generator, memory_available, resolve_device, resolve_precision
from .evaluate import elbo_terms
from .train_config import BOUNDS, TrainConfig, check_fits

__all__ = ["RECIPE", "BOUNDS", "TrainConfig", "Trainer", "TrainingDiverged", "train_model", "build_meta", "main"]

# The recipe of the shipped models, and the defaults of the CLI and the app's Train page.
# Measured on mnist5k (README, "Results"): more Adam steps matter more than anything else on
# 4,500 digits, and a 1-pixel random shift removes most of the train/validation gap.
RECIPE = {"hidden": (512, 256), "epochs": 150, "batch_size": 64, "lr": 2e-3, "augment_shift": 1}


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; nothing is saved."""


class Trainer:
    """Adam on model.loss(x); events: on_train_start, on_batch_end, on_epoch_end (callbacks get the trainer)."""

    def __init__(
        self, model, config: TrainConfig, train: Dataset, val: Dataset | None = None, *, device=None, world=None
    ):
        self.world = world or distributed.SINGLE
        self.device = torch.device(device) if device is not None else resolve_device(config.device)
        self.precision = resolve_precision(config.precision, self.device)
        self.model, self.config, self.train_data, self.val_data = model.to(self.device), config, train, val
        self.x_train = train.images.to(self.device)  # moved once; batches are slices of it
        self.x_val = val.images.to(self.device) if val is not None else None
        self.callbacks: dict[str, list] = defaultdict(list)
        self.stop_event = threading.Event()
        self.history: list[dict] = []  # one dict of metrics per finished epoch
        self.epoch = self.step = 0
        self.steps_per_epoch = math.ceil(len(train) / config.batch_size)
        self.batch_metrics: dict = {}
        self.samples_per_s = 0.0
        self.train_seconds = 0.0  # in the training loop (what samples/s is measured over)
        self.wall_seconds = 0.0  # the whole run, with per-epoch validation and callbacks (the film)
        if config.batch_size < self.world.size:
            raise ValueError(f"batch size {config.batch_size} is smaller than the {self.world.size} processes.")

    def add_callback(self, event: str, fn) -> None:
        self.callbacks[event].append(fn)

    def fire(self, event: str) -> None:
        for fn in self.callbacks[event]:
            fn(self)

    @property
    def cancelled(self) -> bool:
        return self.stop_event.is_set()

    def cancel(self) -> None:
        self.stop_event.set()

    def run(self) -> list[dict]:
        cfg, world = self.config, self.world
        order_gen = generator(self.device, cfg.seed)  # the same permutation on every rank
        # One process draws everything from one stream (as before torchrun existed: same results);
        # ranks draw their noise from their own streams, or they would share it.
        noise_gen = (
            order_gen
            if not world.distributed
            else generator(self.device, cfg.seed + distributed.NOISE_STRIDE * (world.rank + 1))
        )
        loss_fn = distributed.wrap(self.model, world, self.device)
        # fused: one kernel for all parameters instead of a Python loop over them (1.4x steps/s here)
        self.opt = torch.optim.Adam(
            self.model.parameters(),
            lr=cfg.lr,
            fused=self.device.type in ("cpu", "cuda"),  # MPS: for-each Adam
        )
        start = time.perf_counter()
        self.fire("on_train_start")
        for self.epoch in range(1, cfg.epochs + 1):
            t0 = time.perf_counter()
            train_loss = self._epoch(loss_fn, order_gen, noise_gen)
            if train_loss is None:
                return self.history
            self.train_seconds += time.perf_counter() - t0
            self.samples_per_s = self.epoch * len(self.x_train) / self.train_seconds
            self.history.append(self.epoch_metrics(train_loss))
            self.fire("on_epoch_end")
            self.wall_seconds = time.perf_counter() - start
            if self.cancelled:
                break
        return self.history

    def _epoch(self, loss_fn, order_gen, noise_gen) -> float | None:
        """One pass over the global permutation; the mean training loss, or None if cancelled."""
        cfg, world, n = self.config, self.world, len(self.x_train)
        self.model.train()
        total = 0.0
        order = torch.randperm(n, generator=order_gen, device=self.device)
        for i in range(0, n, cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            if len(idx) < world.size:  # a last global batch too small to split: every rank skips it
                continue
            local = idx[distributed.local_slice(0, len(idx), world)]
            total += self._step(loss_fn, self.x_train[local], len(idx), noise_gen) * len(idx)
            self.fire("on_batch_end")
            if self.cancelled:
                return None
        return total / n

    def _step(self, loss_fn, x: torch.Tensor, n_global: int, gen: torch.Generator) -> float:
        cfg = self.config
        if cfg.augment_shift:
            x = random_shift(x, cfg.augment_shift, gen)
        with autocast(self.device, self.precision):
            loss = loss_fn(x, gen, self.beta_scale())
        # the one host read per step: the NaN guard and the bar share it (all ranks read the same)
        value = distributed.global_mean(loss, len(x), self.world).item()
        if not math.isfinite(value):
            raise TrainingDiverged(
                f"Training diverged at epoch {self.epoch}, step {self.step + 1}: the loss became "
                f"{value}. Nothing was saved; try a smaller learning rate (now {cfg.lr:g})."
            )
        for group in self.opt.param_groups:
            group["lr"] = self.learning_rate()
        self.opt.zero_grad(set_to_none=True)
        distributed.scale_local_loss(loss, len(x), n_global, self.world).backward()
        self.opt.step()
        self.step += 1
        self.batch_metrics = {"loss": value}
        return value

    def learning_rate(self) -> float:
        cfg = self.config
        if cfg.schedule == "constant":
            return cfg.lr
        progress = self.step / (cfg.epochs * self.steps_per_epoch)
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * progress))

    def beta_scale(self) -> float:
        if self.config.warmup_epochs <= 0:
            return 1.0
        return min(1.0, self.step / (self.config.warmup_epochs * self.steps_per_epoch))

    def epoch_metrics(self, train_loss: float) -> dict:
        row = {"epoch": self.epoch, "train_loss": train_loss, "samples_per_s": self.samples_per_s}
        if self.x_val is not None and self.world.is_main:  # other ranks have nothing to report
            terms = elbo_terms(self.model, self.x_val, seed=self.config.seed)
            row.update({f"val_{k}": v for k, v in terms.items()})
        return row


def random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by up to max_shift pixels (zero padding), all in one gather."""
    n, c, h, w = x.shape
    dev = x.device
    padded = torch.nn.functional.pad(x, (max_shift,) * 4)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen, device=dev)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen, device=dev)
    rows = (dy[:, None] + torch.arange(h, device=dev))[:, None, :, None].expand(n, c, h, w + 2 * max_shift)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w, device=dev))[:, None, None, :].expand(n, c, h, w)
    return out.gather(3, cols)


def train_model(
    model_config,
    train_config: TrainConfig,
    train: Dataset,
    val: Dataset | None,
    callbacks=(),
    *,
    device=None,
    world=None,
):
    """Build a model from its config, train it, and return (model, trainer).

    The memory the model and batch need is checked first (ValueError, nothing allocated);
    initial weights are drawn on the CPU from the seed, so they are the same on every device.
    """
    from .models import VAE

    device = torch.device(device) if device is not None else resolve_device(train_config.device)
    check_fits(model_config, train_config, memory_available(device))
    model = VAE(model_config, generator=torch.Generator().manual_seed(train_config.seed))
    trainer = Trainer(model, train_config, train, val, device=device, world=world)
    for event, fn in callbacks:
        trainer.add_callback(event, fn)
    trainer.run()
    model.eval()
    return model, trainer


def build_meta(model_config, train_config: TrainConfig, dataset: str, trainer: Trainer) -> dict:
    """Everything a checkpoint needs to describe itself; `train_config.precision` is the one used."""
    last = trainer.history[-1] if trainer.history else {}
    metrics = {k[4:]: v for k, v in last.items() if k.startswith("val_")}
    return {
        "kind": model_config.kind,
        "model_config": model_config.to_dict(),
        "train_config": {**asdict(train_config), "precision": trainer.precision},
        "dataset": dataset,
        "seed": train_config.seed,
        "n_train": len(trainer.train_data),
        "device": str(trainer.device),
        "world_size": trainer.world.size,
        "samples_per_s": trainer.samples_per_s,
        "train_seconds": trainer.train_seconds,
        "wall_seconds": trainer.wall_seconds,
        "metrics": metrics,
        "history": trainer.history,
    }


def main(argv=None) -> int:
    from .cli import sigterm_as_exit
    from .train_cli import run

    with sigterm_as_exit():
        return run(argv)


if __name__ == "__main__":
    sys.exit(main())
