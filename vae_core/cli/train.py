"""`python -m vae_core.train`: train one model (the steps are vae_core.runs.run's).

The flags are generated from ModelConfig's and TrainConfig's fields (their defaults and help
texts), so the recipe is written once; only what is not a setting of the model or of training
(the data, the output, storage, a dry run) is declared here. Every check that can fail runs
before the first epoch: arguments, settings and their bounds, the output path, the data, the
device, the memory the model needs. A failure is one line on stderr and exit code 2; SIGTERM
is exit code 143 with nothing written. Under torchrun every rank runs this; rank 0 alone shows
progress, writes the checkpoint and prints the JSON line.

The engine is imported inside the functions: a bad argument is refused before torch loads.
"""

from __future__ import annotations

import os
import sys
from dataclasses import MISSING, fields

from .common import OneLineParser, Terminated, emit_json, fail, sigterm_as_exit

# ModelConfig fields that are not flags, and flags whose name differs from their field's.
NOT_FLAGS = {"image_shape"}  # from the data
FLAG_NAMES = {"kind": "--model"}
SAVE_DTYPES = ("float32", "float16")
MAX_DIST_TIMEOUT_S = 86_400  # a day: a rank waiting longer for its peers is waiting for nothing


def _configs():
    from ..model.config import CHOICES as MODEL_CHOICES
    from ..model.config import ModelConfig
    from ..training.config import CHOICES as TRAIN_CHOICES
    from ..training.config import TrainConfig

    return (ModelConfig, MODEL_CHOICES), (TrainConfig, TRAIN_CHOICES)


def add_config_flags(p, config_cls, choices: dict) -> None:
    """One flag per dataclass field: --latent-dim from latent_dim, type and default from the field."""
    for f in fields(config_cls):
        if f.name in NOT_FLAGS:
            continue
        default = f.default if f.default is not MISSING else f.default_factory()
        flag = FLAG_NAMES.get(f.name, "--" + f.name.replace("_", "-"))
        kwargs = {"default": default, "help": f.metadata.get("help", ""), "dest": f.name}
        if isinstance(default, tuple):
            kwargs.update(type=type(default[0]), nargs="+", default=list(default))
        elif f.name in choices and f.name != "device":  # device also takes cuda:N
            kwargs.update(choices=choices[f.name])
        else:
            kwargs.update(type=type(default))
        p.add_argument(flag, **kwargs)


def parse_args(argv=None):
    p = OneLineParser(prog="python -m vae_core.train", description="Train a VAE, AE or KL-only model.")
    (model_cls, model_choices), (train_cls, train_choices) = _configs()
    add_config_flags(p, model_cls, model_choices)
    add_config_flags(p, train_cls, train_choices)
    p.add_argument("--dataset", default="mnist5k", help="mnist5k, mnist, fashion, digits, shapes or folder:PATH")
    p.add_argument("--data-root", default=None)
    p.add_argument("--image-size", type=int, default=None, help="folder:PATH images resized to 28, 32 or 64 px")
    p.add_argument("--channels", type=int, default=None, help="folder:PATH images as 1 (grey) or 3 (colour) channels")
    p.add_argument("--out", required=True, help="checkpoint path (.safetensors)")
    p.add_argument("--save-dtype", choices=SAVE_DTYPES, default="float32", help="float16 halves the file")
    p.add_argument(
        "--train-split",
        choices=("train", "trainval"),
        default="train",
        help="train: the training split (validation held out); trainval: every training image "
        "(the published protocol; validation figures are then not held out)",
    )
    p.add_argument(
        "--dist-timeout",
        type=float,
        default=None,
        help="under torchrun: the longest, in seconds, any rank waits for the others (joining, and every "
        "step's exchange) before it exits with an error (default 300)",
    )
    p.add_argument("--dry-run", action="store_true", help="one epoch on a few batches, to check the set-up")
    p.add_argument(
        "--eval-iw-samples",
        type=int,
        default=0,
        help="after training, store the full validation metrics (IW-NLL with K samples, active units, "
        "kNN accuracy) in the checkpoint, so the app never recomputes them",
    )
    return p.parse_args(argv)


def _values(args, config_cls) -> dict:
    out = {}
    for f in fields(config_cls):
        if f.name in NOT_FLAGS:
            continue
        v = getattr(args, f.name)
        out[f.name] = tuple(v) if isinstance(v, list) else v
    return out


def train_config_from_args(args):
    from ..training.config import TrainConfig

    return TrainConfig(**_values(args, TrainConfig))


def model_config_from_args(args, image_shape):
    from ..model.config import ModelConfig

    return ModelConfig(**_values(args, ModelConfig), image_shape=tuple(image_shape))


def spec_from_args(args):
    from ..runs.run import RunSpec

    return RunSpec(
        model_config_from_args(args, (1, 28, 28)),  # the image shape is the data's, set at load
        train_config_from_args(args),
        args.dataset,
        args.out,
        args.data_root,
        args.save_dtype,
        args.eval_iw_samples,
        args.dry_run,
        image_size=args.image_size,
        channels=args.channels,
        train_split=args.train_split,
    )


def prepare(argv):
    """Everything before the first epoch: (run, world, device)."""
    from ..io.paths import check_output_path
    from ..runs.run import TrainingRun
    from ..training import distributed
    from ..training.device import resolve_device

    args = parse_args(argv)
    check_output_path(args.out)
    spec = spec_from_args(args)
    world = distributed.world_from_env()
    device = resolve_device(spec.train_config.device)
    run = TrainingRun(spec, device=device, world=world)
    run.load()
    timeout = distributed.DEFAULT_TIMEOUT_S if args.dist_timeout is None else args.dist_timeout
    if not (isinstance(timeout, float) and 1 <= timeout <= MAX_DIST_TIMEOUT_S):
        raise ValueError(f"--dist-timeout must be from 1 to {MAX_DIST_TIMEOUT_S:,} seconds, not {timeout}.")
    run.device = distributed.init(world, device, timeout)  # after the data: a bad dataset fails before any rendezvous
    return run


def run(argv=None) -> int:
    from ..training import distributed
    from ..training.trainer import TrainingDiverged

    try:
        training = prepare(argv)
    except (ValueError, RuntimeError, OSError, EOFError, OverflowError) as e:
        return fail(e)
    except Terminated as e:
        return _terminated(e)
    try:
        return _train_and_save(training)
    except Terminated as e:
        return _terminated(e)
    except (TrainingDiverged, ValueError, RuntimeError, MemoryError, OSError) as e:
        return fail(e)
    finally:
        distributed.shutdown(training.world)


def _terminated(e: Terminated) -> int:
    fail("terminated by SIGTERM; nothing was saved.")
    return int(e.code)


def _train_and_save(training) -> int:
    from tqdm import tqdm

    from ..training import distributed

    callbacks, bar = [], None
    if training.world.is_main:
        bar = tqdm(total=training.total_steps, file=sys.stderr, unit="batch")

        def on_batch(t):
            bar.update(1)
            bar.set_postfix(loss=f"{t.batch_metrics['loss']:.1f}", epoch=t.epoch, refresh=False)

        callbacks.append(("on_batch_end", on_batch))
    try:
        training.train(callbacks)
    finally:
        if bar is not None:
            bar.close()
    if not training.cancelled:
        distributed.finish(training.world)
    meta = training.save()
    if training.world.is_main:
        emit_json(summary(meta, training))
    return 0


def summary(meta: dict, training) -> dict:
    from ..io.jsonable import finite_or_none

    trainer, film = training.trainer, training.film
    from ..data.binarize import likelihood_label

    binarized = training.train_config.binarize == "dynamic"
    out = {
        "likelihood": f"validation {likelihood_label(binarized)}"
        + (" (in training data)" if meta.get("train_split") == "trainval" else ""),
        **{k: finite_or_none(v) for k, v in meta["metrics"].items()},
        "n_train": meta["n_train"],
        "samples_per_s": round(trainer.samples_per_s, 1),
        "train_seconds": round(trainer.train_seconds, 2),
        "wall_seconds": round(trainer.wall_seconds, 2),
        "epochs": training.train_config.epochs,
        "device": meta["device"],
        "precision": trainer.precision,
        "world_size": trainer.world.size,
        "out": str(training.spec.out),
    }
    if film is not None and film.keep:
        out["film_frames"] = len(film)
        out["film_ms_per_frame"] = round(1000 * film.seconds / max(1, len(film)), 2)
    return out


def main(argv=None) -> int:
    # torch's C++ log (c10d's retries, with stack traces) would bury the one line a failure gets;
    # read when torch loads, so set before it: TORCH_CPP_LOG_LEVEL=INFO brings it back.
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "FATAL")
    with sigterm_as_exit():
        return run(argv)


__all__ = ["main", "parse_args", "run"]
