"""The model family: one config, three kinds (VAE, autoencoder, KL-only), their estimators.

config       ModelConfig, conv_layers, layer_sizes: what a model is (no torch: headers are checked with it)
plan         the layers a config builds, their parameter shapes and activations (no torch)
base         the family's one implementation: encode, decode, likelihood, the loss of each kind
mlp, conv    the family's members: VAE (fully connected), ConvVAE (beta-VAE-style convolutions)
build        build_model(config): the member ModelConfig.arch names
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
    {
        "ModelConfig": "config",
        "layer_sizes": "config",
        "VAE": "mlp",
        "ConvVAE": "conv",
        "build_model": "build",
        "LatentVariableModel": "base",
        "Posterior": "posterior",
        "LossTerms": "base",
    },
)
