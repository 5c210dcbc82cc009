"""Train and ship the digit (or clothing) classifier that judges decoded samples.

    python -m scripts.train_classifier --dataset mnist5k --out checkpoints/classifiers/mnist5k.safetensors

Trains on the dataset's training split only, measures accuracy on its validation split (and
on its test split where one exists: fashion, mnist), stores both in the file's metadata and
prints one JSON line. The shipped files were made with the defaults and --seed 0.
"""

from __future__ import annotations

import argparse
import sys
import time

from vae_core.cli.common import emit_json, fail
from vae_core.data import load_dataset
from vae_core.io.classifier_file import save_classifier
from vae_core.model.classifier import ClassifierConfig, accuracy
from vae_core.training.classifier import train_classifier


def parse_args(argv=None) -> argparse.Namespace:
    d = ClassifierConfig()
    p = argparse.ArgumentParser(prog="python -m scripts.train_classifier", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist5k")
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", required=True, help="classifier path (.safetensors)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--channels", type=int, nargs=2, default=list(d.channels))
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--augment-shift", type=int, default=d.augment_shift)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        config = ClassifierConfig(
            channels=tuple(args.channels),
            hidden=args.hidden,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            augment_shift=args.augment_shift,
        )
        train = load_dataset(args.dataset, "train", args.data_root)
        val = load_dataset(args.dataset, "val", args.data_root)
        test = load_dataset(args.dataset, "test", args.data_root) if args.dataset in ("fashion", "mnist") else None
    except (ValueError, RuntimeError, OSError) as e:
        return fail(e)
    t0 = time.perf_counter()

    def progress(epoch, epochs, loss):
        print(f"epoch {epoch}/{epochs}  train loss {loss:.4f}  {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    model, val_acc = train_classifier(train, val, config, args.seed, progress)
    meta = {
        "dataset": args.dataset,
        "classes": list(train.classes),
        "val_accuracy": val_acc,
        "n_train": len(train),
        "n_val": len(val),
        "seed": args.seed,
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    if test is not None:
        meta.update(test_accuracy=accuracy(model, test), n_test=len(test))
    try:
        save_classifier(model, args.out, meta)
    except OSError as e:
        return fail(f"cannot write {args.out}: {e.strerror or e}")
    emit_json({**meta, "out": str(args.out)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
