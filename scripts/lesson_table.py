"""The AE / KL-only / VAE lesson, measured: sample quality, prior holes, code scale, information.

    python -m scripts.lesson_table [--samples 5000] [--seed 0]
    python -m scripts.lesson_table --timing    # what each measure costs on 4,500 and on 54,000 codes

For the six shipped models (checkpoints/{vae,ae,kl}-z{2,16}) on mnist5k: codes of the 4,500
training digits; samples from N(0, I), from a Gaussian fitted to the codes and from a
10-component mixture fitted to them (Ghosh et al. 2020), judged by the shipped classifier;
the prior's mass in holes of the aggregate posterior; and what the codes say about the digit
(the classifier's accuracy on reconstructions of the 500 validation digits). Prints two
markdown tables and checks the two claims the app's pages make, saying whether they hold.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

import vae_core
from vae_core.analysis.holes import code_scale, prior_holes, prior_holes_under
from vae_core.analysis.quality import judge, sample_quality
from vae_core.analysis.samplers import SamplerSettings, fit_sampler
from vae_core.analysis.wording import SPREAD_NAME, spread_text
from vae_core.io.classifier_file import classifier_for, load_classifier
from vae_core.model.estimators import encode_all
from vae_core.model.posterior import Posterior

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["vae-z2", "ae-z2", "kl-z2", "vae-z16", "ae-z16", "kl-z16"]
SOURCES = ("prior", "gaussian", "gmm")


def measure(model, classifier, train, val, n_samples: int = 5000, seed: int = 0) -> dict:
    """Every figure of one model's rows (codes from `train`, reconstructions of `val`)."""
    gen = torch.Generator().manual_seed(seed)
    mean, logvar = encode_all(model, train.images)
    d = mean.shape[1]
    samplers = {
        "gaussian": fit_sampler(mean, SamplerSettings("gaussian", seed=seed)),
        "gmm": fit_sampler(mean, SamplerSettings("gmm", n_components=10, seed=seed)),
    }
    codes = {"prior": torch.randn(n_samples, d, generator=gen)}
    codes.update({k: s.sample(n_samples, gen) for k, s in samplers.items()})
    quality = {k: sample_quality(model, classifier, z) for k, z in codes.items()}
    # q itself (one draw per posterior; the codes for an autoencoder), smoothed by a 10-component mixture
    q_draws = Posterior(mean, logvar).sample(gen)
    q_gmm = fit_sampler(q_draws, SamplerSettings("gmm", n_components=10, seed=seed))
    val_mean, val_logvar = encode_all(model, val.images)
    return {
        "quality": quality,
        "holes": prior_holes(mean, logvar, gen),
        "holes_gmm": prior_holes_under(q_gmm.log_prob, d, gen, density="10-component mixture fitted to q"),
        "scale": code_scale(mean, logvar),
        "recon": sample_quality(model, classifier, val_mean, val.labels),
        "kl": float(Posterior(val_mean, val_logvar).kl().mean()),
        "n_codes": len(mean),
        "dim": d,
    }


def pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def quality_cell(q) -> str:
    return f"{pct(q.low_confidence)} · {q.class_entropy:.2f}"


def scale_cell(scale) -> str:
    """The codes' spread as every page of the app writes it (vae_core.analysis.wording)."""
    return spread_text(scale.aggregate_std)


def tables(results: dict, reference) -> str:
    head = [
        "Samples judged by the classifier: share it cannot name (top probability < 0.5) · entropy of the "
        f"predicted-class histogram (nats; log 10 = {math.log(10):.2f} when every digit is drawn equally).",
        "",
        f"| model | {SPREAD_NAME} (prior: 1) | N(0, I) | fitted Gaussian | 10-GMM |",
        "|---|---|---|---|---|",
        f"| real validation digits | — | {quality_cell(reference)} | | |",
    ]
    for name, r in results.items():
        q = r["quality"]
        head.append(f"| {name} | {scale_cell(r['scale'])} | " + " | ".join(quality_cell(q[s]) for s in SOURCES) + " |")
    head += [
        "",
        "| model | prior mass in holes, q < p/10 (± SE) | same estimator when q = p | holes, q as a 10-GMM "
        "| reconstructions classified correctly | KL (nats) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        h, g, kl = r["holes"], r["holes_gmm"], r["kl"]
        kind = "KDE" if h.bandwidth is not None else "mixture"
        head.append(
            f"| {name} | {pct(h.share)} ± {pct(h.se)} ({kind}) | {pct(h.floor)} | {pct(g.share)} "
            f"| {pct(r['recon'].accuracy)} | {'—' if not math.isfinite(kl) else f'{kl:.1f}'} |"
        )
    return "\n".join(head)


def claims(results: dict) -> list[str]:
    """The two statements the pages make, each checked against the figures above."""
    out = []
    if "ae-z2" in results:
        prior, fitted = results["ae-z2"]["quality"]["prior"], results["ae-z2"]["quality"]["gaussian"]
        se = math.sqrt(sum(q.low_confidence * (1 - q.low_confidence) / q.n for q in (prior, fitted)))
        holds = prior.low_confidence - fitted.low_confidence > 2 * se and prior.class_entropy < fitted.class_entropy
        verdict = "REPRODUCED" if holds else "CONTRADICTED"
        out.append(
            f"AE z=2, N(0, I) samples poor while fitted-Gaussian samples are good: {verdict}"
            f" (unrecognised {pct(prior.low_confidence)} vs {pct(fitted.low_confidence)}, class entropy "
            f"{prior.class_entropy:.2f} vs {fitted.class_entropy:.2f}; {SPREAD_NAME} "
            f"{scale_cell(results['ae-z2']['scale'])} against the prior's 1)."
        )
    for name in ("kl-z2", "kl-z16"):
        if name in results:
            r = results[name]
            no_holes = r["holes"].share <= r["holes"].floor + 2 * r["holes"].se + 0.01
            no_info = r["kl"] < 0.5 and r["recon"].accuracy < 0.2
            out.append(
                f"{name} has no holes and no information: {'REPRODUCED' if no_holes and no_info else 'CONTRADICTED'}"
                f" (holes {pct(r['holes'].share)}, KL {r['kl']:.2f} nats, reconstructions classified "
                f"correctly {pct(r['recon'].accuracy)}, chance 10%)."
            )
    for name, r in results.items():
        h = r["holes"]
        if h.floor is not None and h.floor > 0.2 and h.share <= h.floor + 2 * h.se + 0.01:
            out.append(
                f"{name}: its holes share ({pct(h.share)}) is no higher than the same estimator gives when q is "
                f"the prior ({pct(h.floor)}): with {r['n_codes']:,} codes in {r['dim']} dimensions it cannot tell; "
                f"the 10-GMM estimate ({pct(r['holes_gmm'].share)}) is the usable figure here."
            )
    return out


def timings(classifier) -> list[str]:
    """Wall seconds of each measure for vae-z2, ae-z2 and vae-z16 on mnist5k's 4,500 training
    codes and on the 54,000 Fashion-MNIST training images' codes (the largest split we load)."""
    from vae_core.data import attributes, is_available

    sets = {"4,500": vae_core.load_dataset("mnist5k", "train").images}
    if is_available("fashion"):
        sets["54,000"] = vae_core.load_dataset("fashion", "train").images
    lines = []
    for size, images in sets.items():
        lines.append(f"attributes.measure, {size} images: {_clock(attributes.measure, images):.2f} s")
        for name in ("vae-z2", "ae-z2", "vae-z16"):
            model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{name}.safetensors")
            for job, seconds in _time_model(model, classifier, *encode_all(model, images)).items():
                lines.append(f"{job}, {name}, {size} codes: {seconds:.2f} s")
    return lines


def _time_model(model, classifier, mean, logvar) -> dict[str, float]:
    from vae_core.analysis.holes import log_ratio_grid

    gen = torch.Generator().manual_seed(0)
    out = {
        "prior_holes (2,000 draws, with floor)": _clock(prior_holes, mean, logvar, gen),
        "prior_holes (no floor)": _clock(prior_holes, mean, logvar, gen, floor=False),
        "fit Gaussian": _clock(fit_sampler, mean, SamplerSettings("gaussian")),
        "fit 10-GMM": _clock(fit_sampler, mean, SamplerSettings("gmm")),
        "sample_quality (5,000 samples)": _clock(
            sample_quality, model, classifier, torch.randn(5000, mean.shape[1], generator=gen)
        ),
    }
    if mean.shape[1] == 2:
        out["log_ratio_grid 100x100"] = _clock(log_ratio_grid, mean, logvar, (-4, 4, -4, 4))
    return out


def _clock(fn, *args, **kwargs) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.lesson_table", description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=5000, help="samples per source and model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timing", action="store_true", help="time each measure instead of printing the tables")
    args = p.parse_args(argv)
    path = classifier_for("mnist5k", ROOT / "checkpoints" / "classifiers")
    if path is None:
        print("error: no shipped mnist5k classifier in checkpoints/classifiers/", file=sys.stderr)
        return 2
    classifier, meta = load_classifier(path)
    if args.timing:
        print("\n".join(timings(classifier)))
        return 0
    train, val = vae_core.load_dataset("mnist5k", "train"), vae_core.load_dataset("mnist5k", "val")
    reference = judge(classifier.predict_proba(val.images), val.labels)
    results = {}
    for name in ORDER:
        model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{name}.safetensors")
        results[name] = measure(model, classifier, train, val, args.samples, args.seed)
        print(f"measured {name}", file=sys.stderr, flush=True)
    print(f"Classifier: {path.name}, validation accuracy {pct(meta['val_accuracy'])}.\n")
    print(tables(results, reference))
    print()
    for line in claims(results):
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
