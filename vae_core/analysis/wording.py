"""How the lesson's figures are written, once for the app and the README's scripts (no torch:
the app's first page imports it).

SPREAD_NAME / spread_text  the codes' spread: CodeScale.aggregate_std (holes.py), the std of the
                           aggregate posterior q(z) per dimension, sqrt(Var mu + E sigma^2); the prior's is 1
"""

from __future__ import annotations

SPREAD_NAME = "spread of q(z) per dimension"


def spread_text(aggregate_std) -> str:
    """ "1.37 × 1.19" for one or two dimensions, "0.83–1.16" (lowest–highest) for more."""
    s = [float(v) for v in aggregate_std]
    if len(s) <= 2:
        return " × ".join(f"{v:.2f}" for v in s)
    return f"{min(s):.2f}–{max(s):.2f}"
