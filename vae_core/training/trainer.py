"""A model-agnostic Trainer (the loop) and train_model (build, train, return).

The Trainer knows nothing about VAEs (after minGPT's): it asks the model for `loss(x)` and
reports through callbacks, so the CLI feeds a tqdm bar and the app feeds a progress bar from
the same loop. The data set moves to the device once, as one tensor; batches are sliced there,
and the random numbers are drawn there too (a generator on the device). Under torchrun each
process trains on its slice of every global batch (vae_core.training.distributed).
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict

import torch

from ..data.augment import random_shift
from ..data.binarize import binarize, binarized_once
from ..data.datasets import Dataset
from ..model.build import build_model
from ..model.estimators import elbo_terms
from . import distributed
from .config import TrainConfig, check_fits
from .device import autocast, memory_available, resolve_device, resolve_precision


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
        if val is not None and config.binarize == "dynamic":  # validate on the protocol trained for
            val = binarized_once(val)
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
        # Two streams: the batch order (and the dynamic binarisation) is the same on every rank;
        # the noise that touches images (eps, shifts) is each rank's own, N = 1 included, so it
        # never replays the order stream. (Since round three: the N = 1 noise stream changed, so a
        # retraining of a model shipped before it differs from that file by noise, not by recipe.)
        order_gen, noise_gen = distributed.streams(self.device, cfg.seed, world)
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
        """One pass over the global permutation; the mean training loss over the images used,
        or None if cancelled."""
        cfg, world, n = self.config, self.world, len(self.x_train)
        self.model.train()
        total, used = 0.0, 0
        order = torch.randperm(n, generator=order_gen, device=self.device)
        x = binarize(self.x_train, order_gen) if cfg.binarize == "dynamic" else self.x_train
        for i in range(0, n, cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            if len(idx) < world.size:  # a last global batch too small to split: every rank skips it
                continue
            local = idx[distributed.local_slice(0, len(idx), world)]
            total += self._step(loss_fn, x[local], len(idx), noise_gen) * len(idx)
            used += len(idx)
            self.fire("on_batch_end")
            if self.cancelled:
                return None
        return total / max(used, 1)

    def _step(self, loss_fn, x: torch.Tensor, n_global: int, gen: torch.Generator) -> float:
        cfg = self.config
        if cfg.augment_shift:
            x = random_shift(x, cfg.augment_shift, gen)
        with distributed.exchange(self.world), autocast(self.device, self.precision):
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
        with distributed.exchange(self.world):  # DDP all-reduces the gradients in backward
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
    device = torch.device(device) if device is not None else resolve_device(train_config.device)
    check_fits(model_config, train_config, memory_available(device))
    model = build_model(model_config, generator=torch.Generator().manual_seed(train_config.seed))
    trainer = Trainer(model, train_config, train, val, device=device, world=world)
    for event, fn in callbacks:
        trainer.add_callback(event, fn)
    trainer.run()
    model.eval()
    return model, trainer
