"""The thresholds of the lesson's measures, in one place (no torch: the app's captions quote them).

HOLE_RATIO       q(z) below this share of p(z) is a prior hole (analysis/holes.py)
ACTIVE_THRESHOLD a latent unit is active when Cov_x(E_q[z_u]) exceeds it (Burda et al. 2016, sec. 5.2)
LOW_CONFIDENCE   a sample whose top class probability is below it is "unnamed" (analysis/quality.py)
"""

HOLE_RATIO = 0.1
ACTIVE_THRESHOLD = 0.01
LOW_CONFIDENCE = 0.5


def hole_words() -> str:
    """How a hole is written in the app's text: "q(z) < p(z)/10"."""
    return f"q(z) < p(z)/{1 / HOLE_RATIO:g}"
