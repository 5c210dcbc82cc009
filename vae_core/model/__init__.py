"""The model family: one config, three kinds (VAE, autoencoder, KL-only), their estimators.

config       ModelConfig and layer_sizes: what a model is (no torch: headers are checked with it)
mlp          the MLP family (VAE class) and its loss per kind
posterior    q(z|x) as a diagonal Gaussian (a point mass for the autoencoder)
losses       the ELBO's terms in closed form: KL, Bernoulli and Gaussian NLL, log-densities
estimators   Monte-Carlo ELBO and the importance-weighted bound, per image
classifier   the small CNN that judges decoded samples
onnx_config  the ONNX model format's manifest, checked (no torch: the registry reads it)
onnx_vae     a VAE given as two ONNX graphs, behind the same interface (run by onnxruntime)
"""

from .._lazy import exports

__getattr__, __dir__ = exports(
    __name__,
    {"ModelConfig": "config", "layer_sizes": "config", "VAE": "mlp", "Posterior": "posterior", "LossTerms": "mlp"},
)
