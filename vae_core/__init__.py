"""vae_core: the engine of the VAE latent-space explorer (plain PyTorch, no UI).

    model, meta = vae_core.load_checkpoint("checkpoints/vae-z16.safetensors")
    post = model.encode(x)          # x: [N, C, H, W] in [0, 1] -> Posterior(mean, logvar)
    x_hat = model.decode(post.mean) # [N, D] -> [N, C, H, W] in [0, 1]

Rooms, lowest first (a room imports only rooms below it; tests/engine/test_layers.py checks it):
    model, data   the model family and its config; datasets and image preparation
    io            checkpoints (untrusted), atomic writes, the model registry, map caches
    training      the recipe (TrainConfig), Trainer, device, distributed, the film
    analysis      metrics, densities and holes, sample quality, samplers, projections
    runs          one training run (CLI, jobs and sweeps share it), background jobs, sweeps
    cli           the command lines; `python -m vae_core.train|evaluate|sweep|export_onnx` are thin entries

`load_checkpoint` also opens an ONNX model folder (encoder.onnx, decoder.onnx, model.json; README
"Your own model"): the same interface, run by onnxruntime; meta["format"] == "onnx" tells it apart.
"""

__version__ = "0.1.0"

from ._lazy import exports

_PUBLIC = {
    "CheckpointError": "io.header",
    "load_checkpoint": "io.checkpoint",
    "save_checkpoint": "io.checkpoint",
    "Dataset": "data.datasets",
    "DatasetUnavailable": "data.idx",
    "load_dataset": "data.datasets",
    "prepare_image": "data.preprocess",
    "ModelConfig": "model.config",
    "VAE": "model.mlp",
    "Posterior": "model.posterior",
    "exact_nll": "analysis.quadrature",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
