"""The AE / KL-only / VAE lesson, measured: sample quality, prior holes, code scale, information.

    python -m scripts.lesson_table [--samples 5000] [--seed 0]
    python -m scripts.lesson_table --timing    # what each measure costs on 4,500 and on 54,000 codes
    python -m scripts.lesson_table --k-repeats 6   # also: how the choice of K moves with the seed (z > 2)

For the six shipped models (checkpoints/{vae,ae,kl}-z{2,16}) on mnist5k: codes of the 4,500
training digits; samples from N(0, I), from a Gaussian fitted to the codes and from a
10-component mixture fitted to them (Ghosh et al. 2020), judged by the shipped classifier;
the prior's mass in holes of the aggregate posterior, exactly and through K-component mixtures
fitted to draws from it for K in mixture_holes.DEFAULT_KS (each K's share, its floor when q is the
prior, and K chosen by held-out likelihood); and what the codes say about the digit (the
classifier's accuracy on reconstructions of the 500 validation digits). Prints three markdown
tables and checks the claims the app's pages make, saying whether they hold.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

import vae_core
from vae_core.analysis.holes import code_scale, prior_holes
from vae_core.analysis.mixture_holes import holes_over_k
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
    val_mean, val_logvar = encode_all(model, val.images)
    return {
        "quality": quality,
        # a generator of its own, as the app's ui/services/prior_holes.py: the pages print these figures
        "holes": prior_holes(mean, logvar, torch.Generator().manual_seed(seed)),
        # q smoothed by K-component mixtures fitted to one draw per posterior, K chosen by held-out likelihood
        "holes_k": holes_over_k(mean, logvar, torch.Generator().manual_seed(seed)),
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
        "| model | prior mass in holes, exact q < p/10 (± SE) | same estimator when q = p "
        "| holes, q as a K-mixture, K by held-out likelihood (floor) | over K near it | one Gaussian "
        "| reconstructions classified correctly | KL (nats) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        h, m, kl = r["holes"], r["holes_k"], r["kl"]
        kind = "KDE" if h.bandwidth is not None else "mixture"
        lo, hi = m.share_range
        edge = ", still improving" if m.at_edge else ""
        head.append(
            f"| {name} | {pct(h.share)} ± {pct(h.se)} ({kind}) | {pct(h.floor)} "
            f"| {pct(m.chosen.share)} at K = {m.chosen_k}{edge} ({pct(m.chosen.floor)}) "
            f"| {pct(lo)}–{pct(hi)} (K = {', '.join(map(str, m.sensitivity_ks))}) | {pct(m.one_gaussian.share)} "
            f"| {pct(r['recon'].accuracy)} | {'—' if not math.isfinite(kl) else f'{kl:.1f}'} |"
        )
    return "\n".join(head + ["", holes_over_k_table(results)])


def holes_over_k_table(results: dict) -> str:
    """Each model's holes share for every K tried: the share depends on K, so all of them are shown."""
    ks = [row.k for row in next(iter(results.values()))["holes_k"].rows]
    out = [
        "Prior mass where a K-component mixture fitted to draws from q is below p/10 · in brackets the same "
        "estimator when q is the prior · held-out log-likelihood of the mixture relative to the best K "
        '(nats per code). **Bold**: the best K; *italics*: within 2 paired standard errors of it. "Near it": '
        "those and the best K's neighbours in the grid.",
        "",
        "| model | " + " | ".join(f"K = {k}" for k in ks) + " |",
        "|---|" + "---|" * len(ks),
    ]
    for name, r in results.items():
        m = r["holes_k"]
        cells = []
        for row in m.rows:
            cell = f"{pct(row.share)} ({pct(row.floor)}) · {row.heldout_ll - m.chosen.heldout_ll:+.2f}"
            mark = "**" if row.k == m.chosen_k else "*" if row.k in m.plausible_ks else ""
            cells.append(f"{mark}{cell}{mark}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


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
            out.append(f"{name}: {blind_holes_line(h, r)}")
    return out


def blind_holes_line(h, r) -> str:
    """Where the exact estimator cannot tell: what the mixtures say, with the K-dependence in plain view."""
    m = r["holes_k"]
    lo, hi = m.share_range
    chosen = f"K = {m.chosen_k}" + (" (held-out likelihood still improving: K not identified)" if m.at_edge else "")
    return (
        f"its holes share ({pct(h.share)}) is no higher than the same estimator gives when q is the prior "
        f"({pct(h.floor)}): with {r['n_codes']:,} codes in {r['dim']} dimensions it cannot tell. Through a "
        f"mixture fitted to q the share depends on K ({', '.join(pct(x.share) for x in m.rows)} for K = "
        f"{', '.join(str(x.k) for x in m.rows)}); held-out likelihood picks {chosen}: {pct(m.chosen.share)} "
        f"(floor {pct(m.chosen.floor)}), {pct(lo)}–{pct(hi)} over K = {', '.join(map(str, m.sensitivity_ks))}. "
        f"Robust: one Gaussian already leaves {pct(m.one_gaussian.share)} of the prior's mass in holes."
    )


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
    p.add_argument("--k-repeats", type=int, default=0, help="refit the K-mixtures with this many other seeds")
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
    for name in (n for n in ORDER if results[n]["dim"] > 2 and args.k_repeats > 0):
        model, _ = vae_core.load_checkpoint(ROOT / "checkpoints" / f"{name}.safetensors")
        print(f"- {name}: {k_repeats(*encode_all(model, train.images), args.k_repeats)}")
    return 0


def k_repeats(mean, logvar, repeats: int) -> str:
    """The choice of K and its share under other seeds (another held-out split, other draws from q,
    other EM starts): how stable the held-out choice is."""
    runs = [holes_over_k(mean, logvar, torch.Generator().manual_seed(s), floor=False) for s in range(1, repeats + 1)]
    picks = sorted({m.chosen_k for m in runs})
    counts = ", ".join(f"K = {k} ×{sum(m.chosen_k == k for m in runs)}" for k in picks)
    shares = [m.chosen.share for m in runs]
    return (
        f"over seeds 1–{repeats}, held-out likelihood picks {counts}; the share at the chosen K is "
        f"{pct(min(shares))}–{pct(max(shares))}, one Gaussian's {pct(min(m.at(1).share for m in runs))}–"
        f"{pct(max(m.at(1).share for m in runs))}."
    )


if __name__ == "__main__":
    sys.exit(main())
