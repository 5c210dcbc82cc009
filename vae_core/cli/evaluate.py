"""`python -m vae_core.evaluate CHECKPOINT ...`: a model's metrics as one JSON line (vae_core.analysis.metrics).

The line's "likelihood" field says what its likelihood figures (recon, neg_elbo, nll_iw) are:
- default: the cross-entropy against the grey-level pixels, an upper bound on the expected
  binarised NLL and not comparable with published binarised figures;
- `--binarized`: the published protocol, the split binarised once with the fixed seed of
  vae_core.data.binarize (its SHA-256 in "binarized_sha256"); use K = 5000 as the papers do.

The engine is imported inside the functions that need it: a bad argument is refused in a
fraction of a second, before torch loads (about 2 s here).
"""

from __future__ import annotations

import argparse
import sys

from ..io.jsonable import finite_or_none
from ..model.config import MAX_IW_SAMPLES  # no torch: arguments are checked before it loads
from .common import OneLineParser, emit_json, fail, run_until_sigterm

MAX_SEED = 2**32 - 1


def parse_args(argv=None) -> argparse.Namespace:
    p = OneLineParser(prog="python -m vae_core.evaluate", description="Evaluate a checkpoint.")
    p.add_argument("checkpoint")
    p.add_argument("--dataset", default=None, help="default: the dataset the model was trained on")
    p.add_argument("--data-root", default=None)
    p.add_argument("--split", default=None, help="train, val or test (default: test where it exists, else val)")
    p.add_argument(
        "--iw-samples", type=int, default=100, help="K importance samples (IWAE; 5000 as published figures use)"
    )
    p.add_argument(
        "--binarized",
        action="store_true",
        help="score the split binarised once with the fixed seed (the published protocol: binarised NLL) "
        "instead of the cross-entropy against grey levels",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps")
    args = p.parse_args(argv)
    if not 1 <= args.iw_samples <= MAX_IW_SAMPLES:
        raise ValueError(f"--iw-samples must be from 1 to {MAX_IW_SAMPLES:,}, not {args.iw_samples}.")
    if not 0 <= args.seed <= MAX_SEED:
        raise ValueError(f"--seed must be from 0 to {MAX_SEED:,}, not {args.seed}.")
    return args


def load_inputs(args):
    """(model, dataset name, split, data, train), all on the chosen device; errors are ValueError-like."""
    from dataclasses import replace

    from ..data import load_dataset
    from ..data.binarize import binarized_once
    from ..data.catalog import data_form, default_split
    from ..io.checkpoint import load_checkpoint
    from ..training.device import resolve_device

    device = resolve_device(args.device)
    model, meta = load_checkpoint(args.checkpoint, device=device)
    name = args.dataset or meta.get("dataset", "mnist5k")
    split = args.split or default_split(name)
    form = data_form(name, model.config.image_shape)  # a folder is decoded at the model's size and channels
    data = load_dataset(name, split, args.data_root, **form)
    train = load_dataset(name, "train", args.data_root, **form)
    if data.image_shape != tuple(model.config.image_shape):
        raise ValueError(f"{name} images are {data.image_shape}, the model expects {model.config.image_shape}.")
    if args.binarized:  # the fixed draw: every model is scored on the same bits
        data, train = binarized_once(data), binarized_once(train)
    data, train = (replace(d, images=d.images.to(device)) for d in (data, train))  # moved once
    return model, name, split, data, train


def main(argv=None) -> int:
    return run_until_sigterm(_main, argv)


def _main(argv) -> int:
    from tqdm import tqdm

    from ..analysis.metrics import evaluate
    from ..data.binarize import EVAL_BINARIZE_SEED, digest, likelihood_label

    try:
        args = parse_args(argv)
        model, name, split, data, train = load_inputs(args)
    except (ValueError, RuntimeError, OSError, EOFError, OverflowError) as e:
        return fail(e)
    bar = tqdm(total=len(data), file=sys.stderr, unit="img", desc=f"IW-NLL, K={args.iw_samples}")
    try:
        metrics = evaluate(model, data, train, args.iw_samples, args.seed, lambda done, _: bar.update(done - bar.n))
    except ValueError as e:  # a non-finite IW-NLL for a model with a density: an error, not a null
        return fail(e)
    finally:
        bar.close()
    metrics.pop("kl_per_dim")
    protocol = {"likelihood": likelihood_label(args.binarized)}
    if args.binarized:
        protocol.update(binarize_seed=EVAL_BINARIZE_SEED, binarized_sha256=digest(data.images))
    emit_json(
        {
            "dataset": name,
            "split": split,
            "iw_samples": args.iw_samples,
            **protocol,
            **{k: finite_or_none(v) for k, v in metrics.items()},
        }
    )
    return 0
