"""The training film: the latent codes of a fixed set of validation images, epoch after epoch.

A Trainer callback. Each kept frame is the posterior mean of the same M images (fixed indices
into the validation split, the same for every model, so films of two models can be compared),
stored as float16 on the CPU. Frames are evenly spaced over the run (epoch 0, the untrained
encoder, through the last epoch) and capped, so a 10,000-epoch run stores no more than a
150-epoch one. Saved with the checkpoint as extras (`film_codes` [E, M, D] float16,
`film_index` [M] int64, `film_epochs` [E] int64) and read back with
`vae_core.io.checkpoint.read_extras(path)`.
"""

from __future__ import annotations

import threading
import time

import torch

from ..data.datasets import Dataset

FILM_POINTS = 500  # validation images followed through training
MAX_FRAMES = 150  # frames kept at most, evenly spaced over the epochs


def film_index(n_val: int, points: int = FILM_POINTS) -> torch.Tensor:
    """Fixed, sorted indices into a validation split of n_val images (independent of the training seed)."""
    if points >= n_val:
        return torch.arange(n_val)
    return torch.randperm(n_val, generator=torch.Generator().manual_seed(0))[:points].sort().values


def frame_epochs(epochs: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """Epochs 0..epochs at which a frame is kept: all of them, or max_frames evenly spaced
    (always the first and the last)."""
    if max_frames < 1:
        return []
    if epochs + 1 <= max_frames:
        return list(range(epochs + 1))
    if max_frames == 1:
        return [epochs]
    picks = torch.linspace(0, epochs, max_frames).round().long().unique()
    return picks.tolist()


class Film:
    """Collects frames as a Trainer callback; thread-safe reads for a live view."""

    def __init__(
        self, val: Dataset, epochs: int, points: int = FILM_POINTS, max_frames: int = MAX_FRAMES, device="cpu"
    ):
        self.index = film_index(len(val), points)
        self.images = val.images[self.index.to(val.images.device)].to(device)  # moved once, like the data
        self.labels = val.labels[self.index.to(val.labels.device)].cpu()
        self.keep = set(frame_epochs(epochs, max_frames))
        self._frames: list[torch.Tensor] = []
        self._epochs: list[int] = []
        self._lock = threading.Lock()
        self._stacked: torch.Tensor | None = None
        self.seconds = 0.0  # time spent encoding frames (the film's overhead)

    def callbacks(self) -> list:
        """(event, fn) pairs for Trainer.add_callback / train_model."""
        return [("on_train_start", self.capture), ("on_epoch_end", self.capture)]

    def capture(self, trainer) -> None:
        """Keep this epoch's frame if it is one of the evenly spaced ones."""
        if trainer.epoch not in self.keep or trainer.epoch in self._epochs:
            return
        codes = self.encode(trainer.model)
        with self._lock:
            self._frames.append(codes)
            self._epochs.append(trainer.epoch)
            self._stacked = None

    @torch.inference_mode()
    def encode(self, model) -> torch.Tensor:
        """Posterior means of the film's images, float16 on the CPU (eval mode, then back)."""
        t0 = time.perf_counter()
        was_training = model.training
        model.eval()
        codes = model.encode(self.images).mean.to("cpu", torch.float16)
        model.train(was_training)
        self.seconds += time.perf_counter() - t0
        return codes

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def frames(self) -> tuple[torch.Tensor, list[int]]:
        """(codes [E, M, D] float16, epochs) so far; the stacked tensor is shared until the next frame."""
        with self._lock:
            if self._stacked is None and self._frames:
                self._stacked = torch.stack(self._frames)
            return self._stacked, list(self._epochs)

    def frame_at(self, epoch: int) -> torch.Tensor | None:
        """The frame kept at `epoch`, if it was kept."""
        with self._lock:
            return self._frames[self._epochs.index(epoch)] if epoch in self._epochs else None

    def extras(self) -> dict[str, torch.Tensor]:
        """What save_checkpoint(..., extras=...) stores; {} before the first frame."""
        codes, epochs = self.frames()
        if codes is None:
            return {}
        return {
            "film_codes": codes,
            "film_index": self.index.to(torch.int64).cpu(),
            "film_epochs": torch.tensor(epochs, dtype=torch.int64),
        }
