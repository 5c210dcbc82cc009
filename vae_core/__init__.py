"""vae_core: the engine of the VAE latent-space explorer (plain PyTorch, no UI).

model, meta = vae_core.load_checkpoint("checkpoints/vae-z16.safetensors")
post = model.encode(x)          # x: [N, 1, H, W] in [0, 1] -> Posterior(mean, logvar)
x_hat = model.decode(post.mean) # [N, D] -> [N, 1, H, W] in [0, 1]
"""

__version__ = "0.1.0"

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint  # noqa: E402
from .data import Dataset, DatasetUnavailable, load_dataset  # noqa: E402
from .models import VAE, ModelConfig  # noqa: E402
from .posterior import Posterior  # noqa: E402
from .preprocess import prepare_image  # noqa: E402

__all__ = [
    "VAE",
    "CheckpointError",
    "Dataset",
    "DatasetUnavailable",
    "ModelConfig",
    "Posterior",
    "load_checkpoint",
    "load_dataset",
    "prepare_image",
    "save_checkpoint",
]
