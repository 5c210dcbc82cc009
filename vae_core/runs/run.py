"""One training run, from data to checkpoint: the only place that sequence is written.

    run = TrainingRun(RunSpec(model_config, train_config, "mnist5k", out))
    run.load()                      # data, dry-run subset, memory check, the film
    run.train(callbacks)            # Trainer with the caller's callbacks (a tqdm bar, a job's progress)
    run.save()                      # metadata (+ evaluation), atomic checkpoint; rank 0 only

The CLI (`python -m vae_core.train`, and so every sweep point and torchrun rank), the app's
job queue and scripts all go through these steps; they differ only in the callbacks they pass
and in what they do between the steps (the CLI joins the process group after loading, so a bad
dataset fails before any rendezvous; a job reports "Loading data." then "Training.").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from ..analysis.metrics import evaluate
from ..data import load_dataset
from ..data.binarize import likelihood_label
from ..io.checkpoint import save_checkpoint
from ..model.config import MAX_IW_SAMPLES, ModelConfig
from ..model.estimators import IW_ESTIMATOR, elbo_terms
from ..training import distributed
from ..training.config import TrainConfig, check_fits
from ..training.device import memory_available, resolve_device
from ..training.film import Film
from ..training.trainer import train_model

SAVE_DTYPES = {"float32": torch.float32, "float16": torch.float16}
TRAIN_SPLITS = ("train", "trainval")


@dataclass(frozen=True)
class RunSpec:
    """What to train and where it goes (the model's image shape comes from the data)."""

    model_config: ModelConfig
    train_config: TrainConfig
    dataset: str = "mnist5k"
    out: Path | None = None  # the checkpoint; None: train only (nothing is saved)
    data_root: str | None = None  # a torchvision root for mnist / fashion
    save_dtype: str = "float32"  # float16 halves the file; metrics are re-measured on the rounded weights
    eval_iw_samples: int = 0  # > 0: store the full validation metrics (IW-NLL with K samples) in the file
    dry_run: bool = False  # one epoch on four batches, to check a set-up
    live_codes: bool = False  # keep a film even with film_frames = 0: the app's live map follows its codes
    image_size: int | None = None  # a folder's images resized to this side (28, 32, 64); None: from the data
    channels: int | None = None  # a folder's images as 1 (grey) or 3 (colour) channels; None: from the data
    # "trainval": train on every training image (Fashion's 60,000, as the published protocol does);
    # the validation split is then part of the training data and its figures are not held out.
    train_split: str = "train"

    def __post_init__(self):
        if self.train_split not in TRAIN_SPLITS:
            raise ValueError(f"--train-split must be one of {', '.join(TRAIN_SPLITS)}, not {self.train_split!r}.")
        if self.save_dtype not in SAVE_DTYPES:
            raise ValueError(f"save dtype must be one of {', '.join(SAVE_DTYPES)}, not {self.save_dtype!r}.")
        if not 0 <= self.eval_iw_samples <= MAX_IW_SAMPLES:
            raise ValueError(f"--eval-iw-samples must be from 0 to {MAX_IW_SAMPLES:,}, not {self.eval_iw_samples}.")


class TrainingRun:
    """The steps of one run; each raises ValueError/RuntimeError/OSError with one human line."""

    def __init__(self, spec: RunSpec, *, device=None, world=None):
        self.spec = spec
        self.world = world or distributed.SINGLE
        self.device = torch.device(device) if device is not None else resolve_device(spec.train_config.device)
        self.train_config = spec.train_config
        self.model_config = spec.model_config
        self.train_data = self.val_data = self.film = None
        self.model = self.trainer = self.meta = None

    @property
    def total_steps(self) -> int:
        return self.train_config.epochs * -(-len(self.train_data) // self.train_config.batch_size)

    def load(self) -> None:
        """Data, the model's image shape from it, the memory check and the film: all before any epoch."""
        spec, tcfg = self.spec, self.train_config
        form = {"image_size": spec.image_size, "channels": spec.channels}
        self.train_data = load_dataset(spec.dataset, spec.train_split, spec.data_root, **form)
        self.val_data = load_dataset(spec.dataset, "val", spec.data_root, **form)
        if spec.dry_run:
            self.train_data = self.train_data.subset(4 * tcfg.batch_size)
            self.train_config = tcfg = replace(tcfg, epochs=1)
        self.model_config = replace(self.model_config, image_shape=self.train_data.image_shape)
        check_fits(self.model_config, tcfg, memory_available(self.device))
        if tcfg.batch_size < self.world.size:
            raise ValueError(
                f"--batch-size {tcfg.batch_size} is the global batch: at least one image per process "
                f"({self.world.size})."
            )
        frames = tcfg.film_frames if tcfg.film_points else 0
        if self.world.is_main and (frames or spec.live_codes):
            self.film = Film(self.val_data, tcfg.epochs, max(1, tcfg.film_points), frames, device=self.device)

    def train(self, callbacks=()) -> None:
        """Build and train the model; the film's callbacks run before the caller's."""
        film_callbacks = self.film.callbacks() if self.film is not None else []
        self.model, self.trainer = train_model(
            self.model_config,
            self.train_config,
            self.train_data,
            self.val_data,
            [*film_callbacks, *callbacks],
            device=self.device,
            world=self.world,
        )

    @property
    def cancelled(self) -> bool:
        return self.trainer is not None and self.trainer.cancelled

    def save(self) -> dict:
        """The checkpoint's metadata, measured on what the file will hold, written atomically (rank 0)."""
        if self.cancelled:
            raise RuntimeError("The run was cancelled; nothing is saved.")
        self.meta = build_meta(self.model_config, self.train_config, self.spec.dataset, self.trainer)
        self.meta["train_split"] = self.spec.train_split
        if not self.world.is_main or self.spec.out is None:
            return self.meta
        dtype = SAVE_DTYPES[self.spec.save_dtype]
        self._finish_meta(dtype)
        extras = self.film.extras() if self.film is not None and self.film.keep else None
        try:
            save_checkpoint(self.model, self.spec.out, self.meta, extras=extras, dtype=dtype)
        except OSError as e:
            raise OSError(f"cannot write {self.spec.out}: {e.strerror or e}") from None
        return self.meta

    def _finish_meta(self, dtype) -> None:
        """Metrics that describe the file: re-measured on float16-rounded weights when stored so."""
        x_val = self.trainer.x_val
        if dtype != torch.float32:
            self.model.to(dtype).float()  # what loading the file will give
            self.meta["metrics"] = elbo_terms(self.model, x_val, seed=self.meta["seed"])
            self.meta["weights_dtype"] = self.spec.save_dtype
        if self.spec.eval_iw_samples > 0:
            val = replace(self.val_data, images=x_val)
            train = replace(self.train_data, images=self.train_data.images.to(x_val.device))
            k = self.spec.eval_iw_samples
            self.meta["evaluation"] = {
                "split": "val",
                "iw_samples": k,
                "likelihood": likelihood_label(self.train_config.binarize == "dynamic"),
                "iw_estimator": IW_ESTIMATOR,
                **evaluate(self.model, val, train, iw_samples=k),
            }


def build_meta(model_config, train_config: TrainConfig, dataset: str, trainer) -> dict:
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


def execute(spec: RunSpec, callbacks=(), *, device=None, world=None) -> TrainingRun:
    """All steps in order, for callers with nothing to do between them (scripts, tests)."""
    run = TrainingRun(spec, device=device, world=world)
    run.load()
    run.train(callbacks)
    if not run.cancelled:
        run.save()
    return run
