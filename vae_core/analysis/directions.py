"""Attribute directions and latent arithmetic: "make this 7 thicker", "turn this 3 into an 8".

For each shape attribute (attributes.py) a linear model attr ≈ w·z + b is fitted by least
squares on the training codes (posterior means); its R² on validation codes says how much of
the attribute the latent space holds linearly (1: all of it, 0: none): the linear probe of
Castro et al. (2019, sec. 4). The edit moves a code by delta · Σw / (wᵀΣw), Σ the codes'
covariance: of all steps that change the prediction by delta, the smallest in the codes' own
(Mahalanobis) metric. For least squares Σw = Cov(z, attr), the average shift of the codes per
unit of the attribute. The Euclidean-shortest step, w / |w|², would instead run along units
the codes hardly use (an inactive VAE unit gets a huge coefficient from noise), where the
decoder does not listen: on vae-z16 it moved the decoded slant by 0.16 σ for a 1 σ request.

Class arithmetic (the "smile vector" of White 2016, with classes): the mean code of each
class, and z + alpha (m_target - m_source), which keeps what is particular to z (its slant,
its thickness) and swaps the class.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class AttributeDirections:
    names: tuple[str, ...]  # attribute names, in row order
    weights: torch.Tensor  # [A, D] least-squares coefficients: attr ≈ z @ weights[a] + intercepts[a]
    intercepts: torch.Tensor  # [A]
    steps: torch.Tensor  # [A, D] code change that raises each predicted attribute by one unit (Σw / wᵀΣw)
    r2_train: list[float]  # R² on the codes the fit saw
    r2_val: list[float] | None  # R² on held-out codes: the honest figure (None when none were given)
    attr_std: list[float]  # each attribute's std on the training data: a natural traversal step
    fitted_on: tuple[int, int] = (0, 0)  # (codes used, codes there were): a big map's fit uses a subsample

    def _row(self, name: str) -> int:
        if name not in self.names:
            raise ValueError(f"Unknown attribute {name!r}: choose one of {', '.join(self.names)}.")
        return self.names.index(name)

    def direction(self, name: str) -> torch.Tensor:
        """Unit vector [D] of the edit: the direction in which the codes shift as the attribute grows."""
        s = self.steps[self._row(name)]
        return s / s.norm().clamp_min(1e-12)

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        """Predicted attributes [N, A] of codes z [N, D]."""
        return z.double() @ self.weights.T.double() + self.intercepts.double()

    def shift(self, z: torch.Tensor, name: str, delta) -> torch.Tensor:
        """z moved so that its predicted attribute changes by `delta` (attribute units)."""
        step = self.steps[self._row(name)].to(z.dtype)
        return z + torch.as_tensor(delta, dtype=z.dtype)[..., None] * step

    def traverse(self, z: torch.Tensor, name: str, deltas) -> torch.Tensor:
        """Codes [len(deltas), D] along the attribute's direction from one code z [D]."""
        deltas = torch.as_tensor(deltas, dtype=z.dtype)
        return self.shift(z.reshape(1, -1).expand(len(deltas), -1), name, deltas)


def r_squared(y: torch.Tensor, y_hat: torch.Tensor) -> float:
    """1 - SS_res / SS_tot: the share of y's variance the prediction explains (can be negative)."""
    ss_tot = ((y - y.mean()) ** 2).sum()
    return float(1 - ((y - y_hat) ** 2).sum() / ss_tot) if ss_tot > 0 else float("nan")


def fit_directions(train_codes, train_attrs: dict, val_codes=None, val_attrs=None, names=None) -> AttributeDirections:
    """Least squares of each attribute on the codes (rows whose attribute is NaN are skipped)."""
    names = tuple(names or train_attrs)
    z = torch.as_tensor(train_codes).double()
    if z.ndim != 2 or len(z) <= z.shape[1] + 1:
        raise ValueError(f"Need more codes than latent dimensions + 1 to fit a direction, not {list(z.shape)}.")
    x = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], 1)
    cov = torch.cov(z.T).reshape(z.shape[1], z.shape[1])
    weights, intercepts, r2_train, r2_val, stds = [], [], [], [], []
    for name in names:
        y = torch.as_tensor(train_attrs[name]).double()
        ok = torch.isfinite(y)
        coef = torch.linalg.lstsq(x[ok], y[ok, None]).solution[:, 0]
        weights.append(coef[:-1])
        intercepts.append(coef[-1])
        r2_train.append(r_squared(y[ok], x[ok] @ coef))
        stds.append(float(y[ok].std()))
        if val_codes is not None:
            yv, zv = torch.as_tensor(val_attrs[name]).double(), torch.as_tensor(val_codes).double()
            okv = torch.isfinite(yv)
            r2_val.append(r_squared(yv[okv], zv[okv] @ coef[:-1] + coef[-1]))
    w = torch.stack(weights)
    sw = w @ cov  # [A, D]: Σw per attribute (Σ is symmetric)
    steps = sw / (sw * w).sum(1, keepdim=True).clamp_min(1e-12)
    return AttributeDirections(
        names, w, torch.stack(intercepts), steps, r2_train, r2_val if val_codes is not None else None, stds
    )


def class_means(codes: torch.Tensor, labels: torch.Tensor, n_classes: int | None = None) -> torch.Tensor:
    """Mean code of each class [K, D]; a class with no codes is an error, not a NaN row."""
    n_classes = int(n_classes or int(labels.max()) + 1)
    counts = torch.bincount(labels, minlength=n_classes)
    if (counts[:n_classes] == 0).any() or len(counts) > n_classes:
        raise ValueError(
            f"Every class 0..{n_classes - 1} needs codes, and no label may exceed it (counts {counts.tolist()})."
        )
    sums = torch.zeros(n_classes, codes.shape[1], dtype=codes.dtype).index_add_(0, labels, codes)
    return sums / counts[:, None].to(codes.dtype)


def toward_class(z: torch.Tensor, source: int, target: int, means: torch.Tensor, steps: int = 8) -> torch.Tensor:
    """Codes [steps, D]: z + alpha (m_target - m_source) for alpha from 0 to 1."""
    for c in (source, target):
        if not 0 <= c < len(means):
            raise ValueError(f"Class {c} is not one of 0..{len(means) - 1}.")
    if steps < 2:
        raise ValueError("A path needs at least 2 steps.")
    alpha = torch.linspace(0, 1, steps, dtype=z.dtype)[:, None]
    return z.reshape(1, -1) + alpha * (means[target] - means[source]).to(z.dtype)
