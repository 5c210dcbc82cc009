"""The AE / KL-only / VAE comparison, told from measurements of the models at hand.

Each model gets the same measures (validation ELBO terms with standard errors, active units,
kNN accuracy, the classifier's verdict on prior and fitted-Gaussian samples, the prior's holes
by density, the spread of its codes) and a sentence that says what they show — including
where the textbook picture does not hold (the z = 2 autoencoder's trouble is scale, not holes).
"""

from __future__ import annotations

import numpy as np

from ui.render import lesson_text
from ui.services import data, latents, measures, prior_holes
from ui.services.models import ModelRef, load_model
from vae_core.analysis.thresholds import ACTIVE_THRESHOLD, LOW_CONFIDENCE, hole_words
from vae_core.analysis.wording import SPREAD_NAME, spread_text
from vae_core.data import catalog

IW_SAMPLES = measures.IW_SAMPLES


def footnote(data_name: str) -> str:
    """What the table's figures are, in the words of the data shown."""
    title, noun = catalog.title(data_name), catalog.noun(data_name)
    return (
        f"Nats per image on the validation {noun}s: Bernoulli cross-entropy on grey-level pixels, so −ELBO and the "
        f"importance-weighted NLL (K = {IW_SAMPLES}) bound the NLL of randomly binarised {noun}s from above; they "
        f"are not densities of grey images, nor comparable with published figures on binarised {title}. ± is one "
        "standard error. An autoencoder's code is a point, so its KL, ELBO and likelihood do not exist: — on every "
        "page and in the README. Active units: dimensions whose posterior mean varies across the data "
        f"(Cov > {ACTIVE_THRESHOLD:g}, Burda et al. 2016). Samples are judged by a {title} classifier trained on "
        f"real training {noun}s only: 'unnamed' is the share it gives less than {LOW_CONFIDENCE:g} confidence; "
        "entropy is that of the classes it sees (log 10 = 2.30 when all ten appear equally). Holes: the share of "
        f"the prior's mass where {hole_words()}: the codes' density is below that share of the prior's."
    )


def shared_bounds(projs, pad: float = 0.05) -> tuple[float, float, float, float]:
    """One extent holding every map's points (and the prior's 2σ circle on linear maps)."""
    pts = np.concatenate([p.embedding for p in projs])
    lo, hi = pts.min(0), pts.max(0)
    if all(p.exact for p in projs):
        lo, hi = np.minimum(lo, -2.2), np.maximum(hi, 2.2)
    span = hi - lo
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def measure(ref: ModelRef) -> dict:
    """Every figure the comparison shows, for one model (all cached)."""
    model, meta = load_model(ref)
    mean, logvar = latents.codes(ref)
    return {
        "metrics": measures.metrics(ref, model, meta, IW_SAMPLES),
        "prior": measures.sample_quality(ref, "prior", model, mean),
        "fitted": measures.sample_quality(ref, "gaussian", model, mean),
        "holes": prior_holes.holes(ref, mean, logvar),
        "scale": measures.code_scale(ref, mean, logvar),
        "n_classes": len(data.map_arrays(ref.data)[2]),
        "noun": catalog.noun(ref.data),
    }


def nats(m: dict, name: str) -> str:
    v = m.get(name)
    if v is None or not np.isfinite(v):
        return "—"  # an autoencoder's: no density (the footnote says so)
    se = m.get(f"{name}_se")
    return f"{v:.1f} ± {se:.1f}" if se is not None and np.isfinite(se) else f"{v:.1f}"


def judged(q: dict | None) -> str:
    return "—" if q is None else f"{q['low_confidence']:.0%} · {q['class_entropy']:.2f}"


def columns(row: dict, d: int) -> dict[str, str]:
    m = row["metrics"]
    return {
        "reconstruction": nats(m, "recon"),
        "KL": nats(m, "kl"),
        "−ELBO": nats(m, "neg_elbo"),
        f"IW-NLL (K={IW_SAMPLES})": nats(m, "nll_iw"),
        "active units": f"{m['active_units']} / {d}",
        "kNN accuracy": f"{m['knn_accuracy']:.1%}",
        "N(0, I) samples: unnamed · entropy": judged(row["prior"]),
        "fitted-Gaussian samples": judged(row["fitted"]),
        f"prior holes ({hole_words()})": lesson_text.holes_share(row["holes"]),
        f"{SPREAD_NAME} (prior: 1)": spread_text(row["scale"]["aggregate_std"]),
    }


def verdict(kind: str, row: dict) -> str:
    """One honest sentence from the numbers (thresholds are rough on purpose: they pick words)."""
    m, prior, fitted, holes = row["metrics"], row["prior"], row["fitted"], row["holes"]["share"]
    kl = m.get("kl")
    if m["active_units"] == 0 or (kl is not None and np.isfinite(kl) and kl < 0.5):
        chance, knn = 1 / row["n_classes"], m["knn_accuracy"]
        faint = (
            f" Its means still differ by amounts far below the posterior's noise (σ ≈ 1), enough to order "
            f"neighbours (kNN accuracy {knn:.0%}, chance ~{chance:.0%}) but nothing a sample of z carries."
            if knn > 2 * chance
            else f" kNN accuracy {knn:.0%} (chance ~{chance:.0%})."
        )
        return (
            f"no information the decoder can use: no active unit, KL {kl if kl is not None else 0:.2f} nats.{faint} "
            f"Its codes are the prior itself, so the prior has {lesson_text.pct(holes)} of its mass in holes — and "
            f"every decoded sample is the same average {row['noun']}."
        )
    wide = lesson_text.typical_spread(row["scale"]) > 2
    parts = [lesson_text.spread(row["scale"])]
    better = (
        fitted
        and prior
        and (
            fitted["class_entropy"] > prior["class_entropy"] + 0.2
            or fitted["low_confidence"] < 0.8 * prior["low_confidence"]
        )
    )
    if wide and better:
        parts.append(
            f"so N(0, I) draws fall in a small part of its cloud (unnamed {prior['low_confidence']:.0%}, class "
            f"entropy {prior['class_entropy']:.2f}) while a Gaussian fitted to the codes samples better "
            f"({fitted['low_confidence']:.0%}, {fitted['class_entropy']:.2f})"
        )
    elif prior:
        q = prior
        parts.append(f"N(0, I) samples unnamed {q['low_confidence']:.0%}, class entropy {q['class_entropy']:.2f}")
    parts.append(f"{lesson_text.holes_share(row['holes'])} of the prior's mass in holes ({row['holes']['density']})")
    if kind == "ae" and wide:  # the words follow the measured holes: a scale mismatch is not always the whole story
        parts.append(
            "— a scale mismatch, not the holes the textbook picture draws"
            if holes < 0.1
            else "— holes as the textbook picture draws them: much of the prior's mass lies where its codes are sparse"
        )
    return "; ".join(parts) + "."
