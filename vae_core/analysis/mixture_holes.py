"""Prior holes through a fitted mixture, over the mixture's size K, with K chosen by held-out likelihood.

In many dimensions the aggregate posterior q(z) = (1/N) sum_i q(z|x_i) of a few thousand
narrow posteriors is mostly empty space, even when the population's q is the prior (holes.py:
its floor is ~100 % at D = 16, N = 4,500). A smooth estimate of q is needed, and a K-component
Gaussian mixture fitted to draws from q (one draw per posterior) is one. But the share of the
prior's mass where that estimate is below p(z)/10 depends on K: on vae-z16 it climbs from 12 %
at K = 1 to ~76 % at K = 20 and ~90 % at K = 50 (scripts/lesson_table.py), so a share at one
K is not a property of the model. This module reports, for each K of a grid:

- the share (the same Monte Carlo prior draws for every K, so the K are compared fairly),
- its floor: the same estimator (a K-mixture fitted to as many draws) when q *is* the prior,
  i.e. the share that the fitting alone produces (it rises with K: components shrink),
- the held-out log-likelihood of the fitted mixture on draws from posteriors of codes it did
  not see (nats per code, log-density in z): the standard way to choose K (the population's q,
  not the training codes' mixture, is what is estimated),

and chooses K by held-out likelihood, with its sensitivity: the Ks whose held-out likelihood is
within two paired standard errors of the best and the Ks next to it in the grid (which of those
is within 2 SE changes with the split and EM's start; on vae-z16 the best K is 15 or 20 over six
seeds), and the range of shares over them. The robust
statement is K = 1: a single full-covariance Gaussian, the smoothest estimate there is, already
leaves that share of the prior's mass in holes (with a floor of 0 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ..model.posterior import Posterior
from .holes import HOLE_RATIO, share_in_holes
from .samplers import SamplerSettings, fit_sampler

DEFAULT_KS = (1, 2, 5, 10, 15, 20, 30, 50)  # mixture sizes tried; 1 is the robust one
HELDOUT_SHARE = 0.2  # share of the codes held out to score each K
PLAUSIBLE_SE = 2.0  # a K is plausible when its held-out likelihood is within this many paired SEs of the best
MAX_CODES = 20_000  # codes used at most (a random subset beyond): bounds the EM's work
MIN_FIT_PER_COMPONENT = 2  # a K needs at least this many fitted codes per component, else it is skipped


@dataclass
class HolesAtK:
    k: int  # mixture components
    share: float  # prior mass where the fitted q_K(z) < ratio · p(z)
    se: float  # its Monte Carlo standard error, sqrt(share (1 - share) / n_samples)
    floor: float | None  # the same estimator's share when q is the prior (same K, same number of draws)
    heldout_ll: float  # mean log q_K(z) over held-out draws, nats per code (a density in z: higher fits better)
    heldout_se: float  # standard error of the difference of heldout_ll to the chosen K's (paired; 0 for it)


@dataclass
class MixtureHoles:
    rows: list[HolesAtK]  # one per K tried, by increasing K
    chosen_k: int  # the K with the highest held-out likelihood
    plausible_ks: list[int]  # Ks within PLAUSIBLE_SE paired SEs of the chosen one's held-out likelihood
    at_edge: bool  # the chosen K is the largest tried: held-out likelihood still improving, K not identified
    n_fit: int  # draws each mixture was fitted to
    n_heldout: int  # draws each mixture was scored on
    n_samples: int  # prior draws per share
    ratio: float  # the threshold on q/p
    dim: int  # latent dimensions
    skipped_ks: list[int] = field(default_factory=list)  # Ks asked for that the data cannot support

    def at(self, k: int) -> HolesAtK:
        return next(r for r in self.rows if r.k == k)

    @property
    def chosen(self) -> HolesAtK:
        return self.at(self.chosen_k)

    @property
    def sensitivity_ks(self) -> list[int]:
        """The plausible Ks and the chosen K's neighbours in the grid: the Ks the choice could have been."""
        ks = [r.k for r in self.rows]
        i = ks.index(self.chosen_k)
        return sorted(set(self.plausible_ks) | set(ks[max(0, i - 1) : i + 2]))

    @property
    def share_range(self) -> tuple[float, float]:
        """Lowest and highest share over sensitivity_ks: how much the choice of K moves the figure."""
        shares = [self.at(k).share for k in self.sensitivity_ks]
        return min(shares), max(shares)

    @property
    def one_gaussian(self) -> HolesAtK | None:
        """K = 1, the robust lower statement (None when 1 was not tried)."""
        return next((r for r in self.rows if r.k == 1), None)


def holes_over_k(
    mean: torch.Tensor,
    logvar: torch.Tensor,
    generator: torch.Generator,
    ks=DEFAULT_KS,
    n_samples: int = 2000,
    ratio: float = HOLE_RATIO,
    floor: bool = True,
) -> MixtureHoles:
    """The share of the prior's mass in holes of q, with q a K-mixture fitted to draws from the
    posteriors N(mean, diag exp(logvar)) [N, D] (the codes themselves for an autoencoder), for each
    K in ks; K chosen by the held-out likelihood of a fifth of the codes. ValueError for bad input."""
    ks = _check(mean, logvar, ks, n_samples, ratio)
    draws = Posterior(mean.double(), logvar.double()).sample(generator)
    if len(draws) > MAX_CODES:
        draws = draws[torch.randperm(len(draws), generator=generator)[:MAX_CODES]]
    perm = torch.randperm(len(draws), generator=generator)
    n_held = max(1, round(HELDOUT_SHARE * len(draws)))
    held, fit = draws[perm[:n_held]], draws[perm[n_held:]]
    usable = [k for k in ks if k * MIN_FIT_PER_COMPONENT <= len(fit)]
    if not usable:
        raise ValueError(f"{len(fit)} codes are too few to fit a mixture of {min(ks)} components.")
    d = mean.shape[1]
    z = torch.randn(n_samples, d, generator=generator, dtype=torch.float64)  # the same prior draws for every K
    seed = int(torch.randint(2**31 - 1, (1,), generator=generator))  # before the floor's draws: the same fits
    reference = torch.randn(len(fit), d, generator=generator, dtype=torch.float64) if floor else None
    shares, floors, lls = [], [], []
    for k in usable:
        q = fit_sampler(fit, SamplerSettings("gmm", n_components=k, seed=seed))
        shares.append(share_in_holes(q.log_prob, z, ratio))
        lls.append(q.log_prob(held))
        if floor:
            p_hat = fit_sampler(reference, SamplerSettings("gmm", n_components=k, seed=seed))
            floors.append(share_in_holes(p_hat.log_prob, z, ratio))
    return _summarise(usable, shares, floors or [None] * len(usable), lls, len(fit), n_samples, ratio, d, ks)


def _summarise(ks, shares, floors, lls, n_fit, n_samples, ratio, dim, asked) -> MixtureHoles:
    """Choose K by held-out likelihood; the plausible Ks by the paired SE of each K's difference to it."""
    means = [float(ll.mean()) for ll in lls]
    best = max(range(len(ks)), key=means.__getitem__)
    rows, plausible = [], []
    for i, k in enumerate(ks):
        diff = lls[i] - lls[best]
        se = float(diff.std() / math.sqrt(len(diff))) if len(diff) > 1 else 0.0
        if not math.isfinite(se):
            se = 0.0
        if means[best] - means[i] <= PLAUSIBLE_SE * se or i == best:
            plausible.append(k)
        s = shares[i]
        rows.append(HolesAtK(k, s, math.sqrt(s * (1 - s) / n_samples), floors[i], means[i], se))
    return MixtureHoles(
        rows=rows,
        chosen_k=ks[best],
        plausible_ks=plausible,
        at_edge=best == len(ks) - 1 and len(ks) > 1,
        n_fit=n_fit,
        n_heldout=len(lls[0]),
        n_samples=n_samples,
        ratio=ratio,
        dim=dim,
        skipped_ks=[k for k in asked if k not in ks],
    )


def _check(mean, logvar, ks, n_samples, ratio) -> list[int]:
    if mean.ndim != 2 or len(mean) < 10 or mean.shape != logvar.shape:
        raise ValueError(f"Need posterior means and log-variances [N >= 10, D] of one shape, not {list(mean.shape)}.")
    if not torch.isfinite(mean).all() or torch.isnan(logvar).any() or torch.isposinf(logvar).any():
        raise ValueError("The codes contain NaN or infinite values.")
    try:
        ks = sorted({int(k) for k in ks})
    except (TypeError, ValueError):
        raise ValueError(f"Mixture sizes must be whole numbers, not {ks!r}.") from None
    if not ks or ks[0] < 1 or ks[-1] > 1000 or len(ks) > 50:
        raise ValueError(f"Need 1 to 50 mixture sizes, each 1..1000 (got {ks}).")
    if not 1 <= n_samples <= 1_000_000 or not 0 < ratio < 1:
        raise ValueError(f"Need 1 <= n_samples <= 1,000,000 and 0 < ratio < 1 (got {n_samples}, {ratio}).")
    return ks
