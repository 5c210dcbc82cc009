"""The `python -m vae_core.train` command line (the entry point is vae_core.train.main).

Every check that can fail runs before the first epoch: arguments, settings and their bounds,
the output path, the data, the device, the memory the model needs. A failure is one line on
stderr and exit code 2; SIGTERM is exit code 143 with nothing written. Under torchrun every
rank runs this; rank 0 alone shows progress, writes the checkpoint and prints the JSON line.
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace

import torch

from . import distributed
from .cli import OneLineParser, Terminated, check_output_path, emit_json, fail
from .evaluate import elbo_terms, finite_or_none
from .film import Film
from .train import RECIPE, TrainConfig, TrainingDiverged, build_meta, train_model
from .train_config import BOUNDS, check_fits

SAVE_DTYPES = {"float32": torch.float32, "float16": torch.float16}
MAX_IW_SAMPLES = 100_000


def parse_args(argv=None):
    p = OneLineParser(prog="python -m vae_core.train", description="Train a VAE, AE or KL-only model.")
    p.add_argument("--model", choices=("vae", "ae", "kl"), default="vae")
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--hidden", type=int, nargs="+", default=list(RECIPE["hidden"]))
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    p.add_argument("--sigma-dec", type=float, default=0.1)
    p.add_argument("--activation", choices=("elu", "relu"), default="elu")
    p.add_argument("--mc-samples", type=int, default=1)
    p.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    p.add_argument("--batch-size", type=int, default=RECIPE["batch_size"], help="global batch under torchrun")
    p.add_argument("--lr", type=float, default=RECIPE["lr"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmup-epochs", type=float, default=0.0)
    p.add_argument("--augment-shift", type=int, default=RECIPE["augment_shift"])
    p.add_argument("--schedule", choices=("constant", "cosine"), default="cosine")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps")
    p.add_argument(
        "--precision", choices=("auto", "fp32", "bf16"), default="auto", help="auto: bf16 where native, else fp32"
    )
    p.add_argument("--dataset", default="mnist5k")
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", required=True, help="checkpoint path (.safetensors)")
    p.add_argument("--save-dtype", choices=tuple(SAVE_DTYPES), default="float32", help="float16 halves the file")
    p.add_argument("--film-frames", type=int, default=150, help="training-film frames kept (0: none)")
    p.add_argument("--dry-run", action="store_true", help="one epoch on a few batches, to check the set-up")
    p.add_argument(
        "--eval-iw-samples",
        type=int,
        default=0,
        help="after training, store the full validation metrics (IW-NLL with K samples, active units, "
        "kNN accuracy) in the checkpoint, so the app never recomputes them",
    )
    return p.parse_args(argv)


def train_config_from_args(args) -> TrainConfig:
    if not 0 <= args.eval_iw_samples <= MAX_IW_SAMPLES:
        raise ValueError(f"--eval-iw-samples must be from 0 to {MAX_IW_SAMPLES:,}, not {args.eval_iw_samples}.")
    return TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        warmup_epochs=args.warmup_epochs,
        augment_shift=args.augment_shift,
        schedule=args.schedule,
        precision=args.precision,
        device=args.device,
        film_frames=args.film_frames,
    )


def model_config_from_args(args, image_shape):
    from .models import ModelConfig

    return ModelConfig(
        kind=args.model,
        latent_dim=args.latent_dim,
        hidden=tuple(args.hidden),
        beta=args.beta,
        likelihood=args.likelihood,
        sigma_dec=args.sigma_dec,
        mc_samples=args.mc_samples,
        image_shape=image_shape,
        activation=args.activation,
    )


def prepare(argv):
    """Everything before the first epoch: (args, world, device, train, val, model config, train config)."""
    from .data import load_dataset
    from .device import memory_available, resolve_device

    args = parse_args(argv)
    check_output_path(args.out)
    tcfg = train_config_from_args(args)
    world = distributed.world_from_env()
    device = resolve_device(tcfg.device)
    train = load_dataset(args.dataset, "train", args.data_root)
    val = load_dataset(args.dataset, "val", args.data_root)
    if args.dry_run:
        train = train.subset(4 * tcfg.batch_size)
        tcfg = replace(tcfg, epochs=1)
    mcfg = model_config_from_args(args, train.image_shape)
    check_fits(mcfg, tcfg, memory_available(device))
    if tcfg.batch_size < world.size:
        raise ValueError(
            f"--batch-size {tcfg.batch_size} is the global batch: at least one image per process ({world.size})."
        )
    device = distributed.init(world, device)
    return args, world, device, train, val, mcfg, tcfg


def run(argv=None) -> int:
    try:
        args, world, device, train, val, mcfg, tcfg = prepare(argv)
    except (ValueError, RuntimeError, OSError, EOFError, OverflowError) as e:
        return fail(e)
    except Terminated as e:
        return _terminated(e)
    try:
        return _train_and_save(args, world, device, train, val, mcfg, tcfg)
    except Terminated as e:
        return _terminated(e)
    except (TrainingDiverged, ValueError, RuntimeError, MemoryError) as e:
        return fail(e)
    finally:
        distributed.shutdown(world)


def _terminated(e: Terminated) -> int:
    fail("terminated by SIGTERM; nothing was saved.")
    return int(e.code)


def _train_and_save(args, world, device, train, val, mcfg, tcfg) -> int:
    from tqdm import tqdm

    film = None
    if world.is_main and tcfg.film_frames and tcfg.film_points:
        film = Film(val, tcfg.epochs, tcfg.film_points, tcfg.film_frames, device=device)
    callbacks = list(film.callbacks()) if film is not None else []
    bar = None
    if world.is_main:
        bar = tqdm(total=tcfg.epochs * math.ceil(len(train) / tcfg.batch_size), file=sys.stderr, unit="batch")

        def on_batch(t):
            bar.update(1)
            bar.set_postfix(loss=f"{t.batch_metrics['loss']:.1f}", epoch=t.epoch, refresh=False)

        callbacks.append(("on_batch_end", on_batch))
    try:
        model, trainer = train_model(mcfg, tcfg, train, val, callbacks, device=device, world=world)
    finally:
        if bar is not None:
            bar.close()
    if not world.is_main:
        return 0
    meta = build_meta(mcfg, tcfg, args.dataset, trainer)
    dtype = SAVE_DTYPES[args.save_dtype]
    finish_meta(model, meta, val, train, trainer.x_val, args, dtype)
    from .checkpoint import save_checkpoint

    try:
        save_checkpoint(model, args.out, meta, extras=film.extras() if film is not None else None, dtype=dtype)
    except OSError as e:
        return fail(f"cannot write {args.out}: {e.strerror or e}")
    emit_json(summary(meta, trainer, tcfg, args, film))
    return 0


def finish_meta(model, meta: dict, val, train, x_val, args, dtype) -> None:
    """Metrics that describe the file: re-measured on float16-rounded weights when stored so."""
    if dtype != torch.float32:
        model.to(dtype).float()  # what loading the file will give
        meta["metrics"] = elbo_terms(model, x_val, seed=meta["seed"])
        meta["weights_dtype"] = args.save_dtype
    if args.eval_iw_samples > 0:
        from .evaluate import evaluate

        dev = x_val.device
        on_dev = replace(val, images=x_val), replace(train, images=train.images.to(dev))
        meta["evaluation"] = {
            "split": "val",
            "iw_samples": args.eval_iw_samples,
            **evaluate(model, on_dev[0], on_dev[1], iw_samples=args.eval_iw_samples),
        }


def summary(meta: dict, trainer, tcfg: TrainConfig, args, film) -> dict:
    out = {
        **{k: finite_or_none(v) for k, v in meta["metrics"].items()},
        "n_train": meta["n_train"],
        "samples_per_s": round(trainer.samples_per_s, 1),
        "train_seconds": round(trainer.train_seconds, 2),
        "wall_seconds": round(trainer.wall_seconds, 2),
        "epochs": tcfg.epochs,
        "device": meta["device"],
        "precision": trainer.precision,
        "world_size": trainer.world.size,
        "out": str(args.out),
    }
    if film is not None:
        out["film_frames"] = len(film)
        out["film_ms_per_frame"] = round(1000 * film.seconds / max(1, len(film)), 2)
    return out


__all__ = ["BOUNDS", "parse_args", "run"]
