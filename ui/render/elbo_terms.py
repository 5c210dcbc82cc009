"""The ELBO page's numbers and words: the terms of the identity, how they add up, what each means.

    log p(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) + KL(q(z|x) ‖ p(z|x))
             =              ELBO(q)                + approximation gap + amortisation gap

The first line is Kingma & Welling (2013), eqs. 1 and 3; the split of the gap is Cremer, Li &
Duvenaud (2018), Table 1. Everything here reads an ElboReport (plain floats and arrays) and
returns text or numbers: no Streamlit, no torch. The page shows the numbers rounded to DECIMALS;
`identity_rows` gives the rounded numbers the page prints, so a test can check that what is
shown adds up.
"""

from __future__ import annotations

from dataclasses import dataclass

DECIMALS = 2  # nats shown to 0.01: the quadrature is good to < 0.01 (vae_core.exact_nll)


@dataclass(frozen=True)
class Term:
    key: str  # the report's field
    symbol: str  # as written in the papers
    name: str  # in words
    value: float  # nats


def fmt(v: float, sign: bool = False) -> str:
    """A value in nats as shown: 2 decimals, a real minus sign, thousands separated."""
    v = shown(v) or 0.0  # no "−0.00" for a value that rounds to zero
    text = f"{v:+,.{DECIMALS}f}" if sign else f"{v:,.{DECIMALS}f}"
    return text.replace("-", "−")


def shown(v: float) -> float:
    """The value as the page prints it (tests add these up)."""
    return round(float(v), DECIMALS)


def terms(r) -> dict[str, Term]:
    """The identity's terms of a VAE or KL-only report (empty for an autoencoder)."""
    if r.elbo is None:
        return {}
    px = "log p(x)" if r.exact else "log p(x) ≈ IW bound"
    out = [
        Term("expected_log_lik", "E_q[log p(x|z)]", "reconstruction term", r.expected_log_lik),
        Term("kl_prior", "KL(q(z|x) ‖ p(z))", "KL to the prior", r.kl_prior),
        Term("elbo", "ELBO", "evidence lower bound", r.elbo),
        Term("approximation_gap", "log p(x) − ELBO(q*)", "approximation gap", r.approximation_gap),
        Term("amortisation_gap", "ELBO(q*) − ELBO(q)", "amortisation gap", r.amortisation_gap),
        Term("gap", "KL(q(z|x) ‖ p(z|x))", "KL to the true posterior (the gap)", r.gap),
        Term("log_px", px, "log-evidence", r.log_px),
    ]
    return {t.key: t for t in out}


def identity_rows(r) -> list[tuple[str, float, list[tuple[str, float]]]]:
    """The two sums the page prints, as (left symbol, left value, [(sign, right value), ...]) with
    the values rounded as shown: ELBO = rec − KL, and log p(x) = ELBO + approximation + amortisation."""
    t = terms(r)
    if not t:
        return []
    v = {k: shown(term.value) for k, term in t.items()}
    return [
        ("ELBO", v["elbo"], [("", v["expected_log_lik"]), ("−", v["kl_prior"])]),
        (
            t["log_px"].symbol,
            v["log_px"],
            [("", v["elbo"]), ("+", v["approximation_gap"]), ("+", v["amortisation_gap"])],
        ),
    ]


def identity_text(r) -> list[str]:
    """The sums as lines of markdown, e.g.
    "ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)):  **−194.21 = −189.27 − 4.94**"."""
    out = []
    formulas = (
        "ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))",
        "log p(x) = ELBO + approximation gap + amortisation gap",
    )
    for formula, (_, left, right) in zip(formulas, identity_rows(r), strict=True):
        parts = [fmt(right[0][1])] + [f"{op} {fmt(abs(val) if op == '−' else val)}" for op, val in right[1:]]
        out.append(f"{formula}:  **{fmt(left)} = {' '.join(parts)}**")
    return out


def adds_up(r, tolerance: float = 0.5 * 10**-DECIMALS) -> bool:
    """Whether the shown numbers add up to within rounding (half a unit per rounded term)."""
    for _, left, right in identity_rows(r):
        total = sum(-val if op == "−" else val for op, val in right)
        if abs(total - left) > tolerance * (len(right) + 1) + 1e-9:
            return False
    return True


def explanations(r, noun: str) -> dict[str, str]:
    """One or two sentences per number, for a student who has just read a VAE tutorial."""
    t = terms(r)
    if not t:
        return {}
    if r.exact:
        px = (
            f"How probable the model finds this {noun}: log p(x) = log ∫ p(x|z) p(z) dz, the left side of "
            "Kingma & Welling (2013), eq. 1. With a 2-D latent the integral is a sum over a grid fitted to "
            "the posterior (quadrature), exact to better than 0.01 nats."
        )
        on_grid = fmt(r.kl_posterior)
        gap_extra = f" Summed directly on the posterior's grid it is {on_grid}: the same number, computed another way."
    else:
        px = (
            f"How probable the model finds this {noun}. Above a 2-D latent log p(x) has no exact value here; "
            f"the importance-weighted bound (Burda et al. 2016, eq. 8) with K = {r.curves.pooled_k:,} samples stands "
            "in: a lower bound that rises towards log p(x) as K grows, so the gaps below are lower bounds."
        )
        gap_extra = ""
    se = f" (± {fmt(r.elbo_se)}, Monte Carlo)" if r.elbo_se else ""
    amort_se = f" (± {fmt(r.amortisation_gap_se)})" if r.amortisation_gap_se else ""
    return {
        "log_px": px,
        "elbo": (
            f"The evidence lower bound{se}, what training maximises (Kingma & Welling 2013, eq. 3): "
            "ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)). It sits below log p(x) by exactly KL(q ‖ p(z|x)) (eq. 1)."
        ),
        "expected_log_lik": (
            f"Eq. 3's second term: how well codes z drawn from the encoder's q(z|x) explain the {noun}, "
            "averaged over q. log p(x|z) is the decoder's log-likelihood of the pixels."
        ),
        "kl_prior": (
            "Eq. 3's first term, in closed form for two Gaussians (Kingma & Welling 2013, appendix B): "
            "½ Σ_j (μ_j² + σ_j² − log σ_j² − 1). What it costs, in nats, to move q away from the prior N(0, I)."
        ),
        "gap": (
            "KL(q(z|x) ‖ p(z|x)) = log p(x) − ELBO (eq. 1): how far the encoder's Gaussian is from the true "
            f"posterior p(z|x) = p(x|z) p(z) / p(x).{gap_extra}"
        ),
        "approximation_gap": (
            f"log p(x) − ELBO(q*): what even q*, the best Gaussian for this one {noun} (fitted by gradient "
            "ascent on its own ELBO), cannot capture because the posterior is not Gaussian "
            "(Cremer, Li & Duvenaud 2018, Table 1)."
        ),
        "amortisation_gap": (
            f"ELBO(q*) − ELBO(q){amort_se}: what the encoder loses by being one network for every {noun} "
            f"instead of an optimisation per {noun} (Cremer et al. 2018, Table 1)."
        ),
    }


def curves_text(r) -> str:
    c = r.curves
    return (
        "**ELBO_L** averages log p(x|z_l) over L draws minus the KL (Kingma & Welling 2013, eq. 7): unbiased "
        "for every L, its spread shrinks like 1/√L. **IW_K** = log (1/K) Σ_k p(x, z_k) / q(z_k|x) "
        "(Burda et al. 2016, eq. 8) is a lower bound that rises with K towards log p(x) (their Theorem 1); "
        f"IW_1 is an ELBO estimate. Bands: ± one standard deviation over {c.elbo.shape[0]} repeats."
    )


def gradient_text(r) -> str:
    ratio = r.gradients.ratio
    return (
        "Two unbiased estimates of the ELBO's gradient with respect to q's μ and log σ². The score function "
        "(REINFORCE; Kingma & Welling 2013, sec. 2.2) multiplies log p(x|z) by ∇ log q(z|x); the "
        "reparameterised gradient differentiates log p(x|z) through z = μ + σ ⊙ ε (sec. 2.3–2.4). "
        f"Per draw, the score function's variance is **{ratio[0]:,.0f}×** the reparameterised one's for μ "
        f"and **{ratio[1]:,.0f}×** for log σ²: that is why VAEs are trained with the reparameterisation trick. "
        "A leave-one-out baseline (Kool et al. 2019) narrows the difference without closing it."
    )


def kl_only_text(r, noun: str) -> str:
    return (
        f"This model was trained on the KL term alone. Its encoder puts every {noun} on the prior "
        f"(KL to the prior: {fmt(r.kl_prior)} nats), and its decoder, given codes that say nothing, draws "
        f"the same average image for every z; so the true posterior p(z|x) ∝ p(x|z) p(z) is the prior too. "
        f"The posterior equals the prior: q, q* and p(z|x) lie on the prior's circles, and the gap is "
        f"{fmt(r.gap)} nats."
    )


def autoencoder_text(r, noun: str) -> str:
    return (
        f"log p(x | z = code) = {fmt(r.log_lik_at_mean)} nats: the decoder's log-likelihood of this {noun} at "
        "its code, the reconstruction term with q collapsed to a point. It is not an ELBO: there is no KL "
        "term and no prior to pay it to."
    )
