"""Metrics, in nats per image, and the `python -m vae_core.evaluate` command line.

- ELBO terms: reconstruction -E_q[log p(x|z)], KL, negative ELBO (Kingma & Welling, eq. 3).
- Importance-weighted NLL with K samples (Burda et al. 2016, eq. 8):
      log p(x) >= log 1/K sum_k p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x),
  tighter as K grows; K = 1 is the ELBO. Batched over images and over k so memory stays flat.
- Active units (Burda et al. 2016, sec. 5.2): unit u is active if Cov_x(E_q[z_u]) > 0.01.
- kNN accuracy: classify test latent means by their nearest training means (scikit-learn).
- Standard errors: every likelihood figure is a mean over images; `evaluate` reports it with
  the standard error of that mean (`recon_se`, `kl_se`, `neg_elbo_se`, `nll_iw_se`).
"""

from __future__ import annotations

import argparse
import math
import sys

import torch

from .losses import gaussian_kl, log_normal, log_standard_normal

ACTIVE_THRESHOLD = 0.01


def finite_or_none(v):
    """JSON has no inf/nan: metrics that do not exist for a model (the AE's KL) become null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@torch.inference_mode()
def encode_all(model, x: torch.Tensor, batch_size: int = 1000):
    """Posterior means and log-variances of a whole tensor of images, in batches."""
    means, logvars = [], []
    for i in range(0, len(x), batch_size):
        post = model.encode(x[i : i + batch_size])
        means.append(post.mean)
        logvars.append(post.logvar)
    return torch.cat(means), torch.cat(logvars)


@torch.inference_mode()
def elbo_per_image(model, x: torch.Tensor, seed: int = 0, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstruction -log p(x|z) and KL per image ([N] each), one reparameterised sample each."""
    gen = torch.Generator(device=x.device).manual_seed(seed)
    recon, kl = [], []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        post = model.encode(xb)
        z = post.sample(gen)
        recon.append(model.nll(model.decode_logits(z), xb))
        kl.append(post.kl())
    return torch.cat(recon), torch.cat(kl)


def elbo_terms(model, x: torch.Tensor, seed: int = 0, batch_size: int = 1000) -> dict:
    """Mean reconstruction, KL and negative ELBO per image (one reparameterised sample each)."""
    recon, kl = elbo_per_image(model, x, seed, batch_size)
    r, k = recon.double().mean().item(), kl.double().mean().item()
    return {"recon": r, "kl": k, "neg_elbo": r + k}


def mean_se(values: torch.Tensor) -> tuple[float, float]:
    """Mean and standard error (sample std / sqrt(n)) of per-image values: the figure's
    uncertainty from which 500 digits happened to be in the split. NaN SE where undefined
    (one value, or infinite values: the autoencoder's KL)."""
    v = values.double()
    mean = v.mean().item()
    if len(v) < 2 or not torch.isfinite(v).all():
        return mean, float("nan")
    return mean, (v.std() / math.sqrt(len(v))).item()


@torch.inference_mode()
def iw_nll_per_image(model, x: torch.Tensor, k: int, seed: int = 0, chunk: int = 20_000, progress=None):
    """-log p(x) estimated with k importance samples, per image [N].

    The k samples are processed `chunk` (image x sample) pairs at a time with a running
    logsumexp, so peak memory does not grow with k. Infinite for the autoencoder, which has
    no density. `progress(done, total)` is called after each block of images.
    """
    gen = torch.Generator(device=x.device).manual_seed(seed)
    out = torch.empty(len(x))
    imgs_per_block = max(1, min(len(x), chunk // k))
    for i in range(0, len(x), imgs_per_block):
        xb = x[i : i + imgs_per_block]
        post = model.encode(xb)
        if post.deterministic:
            out[i : i + len(xb)] = float("inf")
            continue
        acc = torch.full((len(xb),), float("-inf"), device=xb.device)
        per_step = max(1, chunk // len(xb))
        for j in range(0, k, per_step):
            z = post.sample(gen, n=min(per_step, k - j))  # [s, B, D]
            log_w = -model.nll(model.decode_logits(z), xb) + log_standard_normal(z)
            log_w = log_w - log_normal(z, post.mean, post.logvar)
            acc = torch.logaddexp(acc, torch.logsumexp(log_w, dim=0))
        out[i : i + len(xb)] = -(acc - math.log(k))
        if progress:
            progress(min(i + len(xb), len(x)), len(x))
    return out


def active_units(means: torch.Tensor, threshold: float = ACTIVE_THRESHOLD) -> int:
    """Number of latent units whose posterior mean varies across the data (Cov_x > threshold)."""
    return int((means.var(0) > threshold).sum())


def knn_accuracy(train_means, train_labels, test_means, test_labels, k: int = 5) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=k).fit(train_means.cpu().numpy(), train_labels.cpu().numpy())
    return float(clf.score(test_means.cpu().numpy(), test_labels.cpu().numpy()))


def evaluate(model, data, train=None, iw_samples: int = 100, seed: int = 0, progress=None) -> dict:
    """All metrics on `data`; kNN accuracy needs the `train` split for its neighbours.

    Likelihood figures come with their standard errors over the images (`*_se`)."""
    model.eval()
    recon, kl = elbo_per_image(model, data.images, seed)
    out = {}
    for name, values in (("recon", recon), ("kl", kl), ("neg_elbo", recon + kl)):
        out[name], out[f"{name}_se"] = mean_se(values)
    nll = iw_nll_per_image(model, data.images, iw_samples, seed, progress=progress)
    out["nll_iw"], out["nll_iw_se"] = mean_se(nll)
    means, logvars = encode_all(model, data.images)
    out["kl_per_dim"] = gaussian_kl(means, logvars).mean(0).tolist()
    out["active_units"] = active_units(means)
    if train is not None:
        train_means, _ = encode_all(model, train.images)
        out["knn_accuracy"] = knn_accuracy(train_means, train.labels, means, data.labels)
    out["n"] = len(data)
    return out


MAX_IW_SAMPLES = 100_000  # K beyond this adds nothing measurable and runs for hours
MAX_SEED = 2**32 - 1


def parse_args(argv=None) -> argparse.Namespace:
    from .cli import OneLineParser

    p = OneLineParser(prog="python -m vae_core.evaluate", description="Evaluate a checkpoint.")
    p.add_argument("checkpoint")
    p.add_argument("--dataset", default=None, help="default: the dataset the model was trained on")
    p.add_argument("--data-root", default=None)
    p.add_argument("--split", default=None, help="train, val or test (default: test where it exists, else val)")
    p.add_argument("--iw-samples", type=int, default=100, help="K importance samples (IWAE; 1000+ for a tighter bound)")
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

    from .checkpoint import load_checkpoint
    from .data import load_dataset
    from .device import resolve_device

    device = resolve_device(args.device)
    model, meta = load_checkpoint(args.checkpoint, device=device)
    name = args.dataset or meta.get("dataset", "mnist5k")
    split = args.split or ("val" if name in ("mnist5k", "digits") else "test")
    data = load_dataset(name, split, args.data_root)
    train = load_dataset(name, "train", args.data_root)
    if data.image_shape != tuple(model.config.image_shape):
        raise ValueError(f"{name} images are {data.image_shape}, the model expects {model.config.image_shape}.")
    data, train = (replace(d, images=d.images.to(device)) for d in (data, train))  # moved once
    return model, name, split, data, train


def main(argv=None) -> int:
    from .cli import Terminated, fail, sigterm_as_exit

    with sigterm_as_exit():
        try:
            return _main(argv)
        except Terminated as e:
            fail("terminated by SIGTERM.")
            return int(e.code)


def _main(argv) -> int:
    from tqdm import tqdm

    from .cli import emit_json, fail

    try:
        args = parse_args(argv)
        model, name, split, data, train = load_inputs(args)
    except (ValueError, RuntimeError, OSError, EOFError, OverflowError) as e:
        return fail(e)
    bar = tqdm(total=len(data), file=sys.stderr, unit="img", desc=f"IW-NLL, K={args.iw_samples}")
    metrics = evaluate(model, data, train, args.iw_samples, args.seed, lambda done, _: bar.update(done - bar.n))
    bar.close()
    metrics.pop("kl_per_dim")
    emit_json(
        {
            "dataset": name,
            "split": split,
            "iw_samples": args.iw_samples,
            **{k: finite_or_none(v) for k, v in metrics.items()},
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
