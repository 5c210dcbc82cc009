"""The thresholds of the lesson's measures, in one place (no torch: the app's captions quote them).

HOLE_RATIO       q(z) below this share of p(z) is a prior hole (analysis/holes.py)
ACTIVE_THRESHOLD a latent unit is active when Cov_x(E_q[z_u]) exceeds it (Burda et al. 2016, sec. 5.2)
LOW_CONFIDENCE   a sample whose top class probability is below it is "unnamed" (analysis/quality.py)
UNTYPICAL_SHARE  an image whose −ELBO is above this share of held-out training-distribution images
                 is "unlike the data the model was trained on" (analysis/typicality.py)
BETTER_EXPLAINED_NATS  another dataset's VAE gives an image a −ELBO lower by more than this: the
                 image looks like that data (a likelihood ratio above e^10 ≈ 22,000; ui/components/typicality.py)
"""

HOLE_RATIO = 0.1
ACTIVE_THRESHOLD = 0.01
LOW_CONFIDENCE = 0.5
UNTYPICAL_SHARE = 0.99
BETTER_EXPLAINED_NATS = 10.0


def hole_words() -> str:
    """How a hole is written in the app's text: "q(z) < p(z)/10"."""
    return f"q(z) < p(z)/{1 / HOLE_RATIO:g}"
