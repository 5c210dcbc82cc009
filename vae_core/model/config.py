"""ModelConfig: what a model is, checked before anything is built, and the layer sizes it implies.

No torch here: a checkpoint header is validated (vae_core.io.header) and the model list is drawn
(vae_core.io.registry) from this module alone, without paying for torch's import.
The config is the one home of every architectural fact: `conv_layers` and `layer_sizes` are the
shape arithmetic of both families (vae_core.model.plan turns them into the modules the model
builds, the parameter shapes the header check expects and what the memory estimate counts).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field

import numpy as np

KINDS = ("vae", "ae", "kl")
ARCHS = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")
ACTIVATIONS = ("elu", "relu")
OBJECTIVES = ("elbo", "iwae")
# the text fields
CHOICES = {"kind": KINDS, "arch": ARCHS, "likelihood": LIKELIHOODS, "activation": ACTIVATIONS, "objective": OBJECTIVES}
# The conv family's layers (Higgins et al. 2017, table 1; Burgess et al. 2018, appendix A.1): 4x4
# kernels, stride 2, padding 1, so each convolution halves the side and each transposed one doubles it.
KERNEL, STRIDE, PADDING = 4, 2, 1
MIN_CONV_SIDE = 4  # the convolutions stop at a 4x4 map (64 px: 4 of them; 32 px: 3), or at an odd side (28 px: 7x7)


def setting(default, help: str):
    """A config field with its help text: the CLI's --help and the app's tooltips read it
    (dataclasses.fields(...).metadata["help"]), so the default and its meaning live once."""
    if isinstance(default, tuple):
        return field(default_factory=lambda: default, metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class ModelConfig:
    kind: str = setting("vae", "vae | ae | kl: the objective (vae_core.model.base)")
    latent_dim: int = setting(16, "D, the size of z")
    arch: str = setting("mlp", "mlp | conv: fully connected, or stride-2 convolutions (vae_core.model.conv)")
    hidden: tuple[int, ...] = setting(
        (512, 256), "fully connected widths, encoder order (conv: after the convolutions); the decoder mirrors them"
    )
    conv_channels: tuple[int, ...] = setting(
        (32, 32, 64, 64), "conv: channels of the stride-2 4x4 convolutions, as many as the side halves (64 px: 4)"
    )
    beta: float = setting(1.0, "KL weight (Higgins et al. 2017); 1 is the true ELBO")
    likelihood: str = setting("bernoulli", "p(x|z): bernoulli (cross-entropy) or gaussian (L2)")
    sigma_dec: float = setting(0.1, "fixed std of the gaussian decoder, in pixel units")
    mc_samples: int = setting(1, "L, samples of z per image in the training estimate (paper: L=1)")
    objective: str = setting(
        "elbo",
        "vae only: elbo (the L samples' bounds averaged) or iwae (the importance-weighted bound of the L "
        "samples, Burda et al. 2016: tighter, so a better likelihood, at L times the decoder's cost)",
    )
    image_shape: tuple[int, int, int] = setting((1, 28, 28), "C, H, W of the data")
    activation: str = setting("elu", "hidden non-linearity: elu (smooth; ~3 nats better than relu here) or relu")

    def __post_init__(self):
        problems = [p for p in self._problems() if p]
        if problems:
            raise ValueError("Invalid model settings: " + "; ".join(problems) + ".")
        self.hidden = tuple(int(h) for h in self.hidden)
        self.conv_channels = tuple(int(c) for c in self.conv_channels)
        self.image_shape = tuple(int(s) for s in self.image_shape)
        self.latent_dim, self.mc_samples = int(self.latent_dim), int(self.mc_samples)
        self.beta, self.sigma_dec = float(self.beta), float(self.sigma_dec)

    def _problems(self) -> list[str | None]:
        """Every field checked by type and range *before* anything is built from it: a checkpoint's
        header is untrusted, and hidden=[1]*20000 or latent_dim=1e30 must cost microseconds."""
        return [
            _choice("kind", self.kind, KINDS),
            _choice("arch", self.arch, ARCHS),
            _choice("likelihood", self.likelihood, LIKELIHOODS),
            _choice("activation", self.activation, ACTIVATIONS),
            _choice("objective", self.objective, OBJECTIVES),
            None
            if self.objective == "elbo" or self.kind == "vae"
            else f"the iwae objective needs kind vae, not {_show(self.kind)}",
            _whole("latent size", self.latent_dim, 1, MAX_LATENT_DIM),
            _whole("mc_samples", self.mc_samples, 1, MAX_MC_SAMPLES),
            _real("beta", self.beta, 0.0, MAX_BETA),
            _real("sigma_dec", self.sigma_dec, MIN_SIGMA_DEC, MAX_SIGMA_DEC),
            _widths("hidden", self.hidden, MAX_HIDDEN_LAYERS, MAX_WIDTH),
            _widths("conv_channels", self.conv_channels, MAX_CONV_LAYERS, MAX_CONV_CHANNELS),
            _image_shape(self.image_shape),
        ]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        if not isinstance(d, dict):
            raise ValueError(f"model settings must be a mapping, not {type(d).__name__}")
        unknown = [str(k) for k in d if k not in cls.__dataclass_fields__]
        if unknown:
            raise ValueError(f"Unknown model settings: {', '.join(_show(k) for k in sorted(unknown)[:5])}.")
        return cls(**d)


# Bounds on every field: generous (the recipe is 784-512-256-D with D up to a few hundred, on
# 28x28 or 8x8 images) but finite, so an untrusted checkpoint header cannot ask for absurd work.
MAX_LATENT_DIM = 1024  # D
MAX_HIDDEN_LAYERS = 16  # hidden layers per MLP (the recipe has 2)
MAX_WIDTH = 8192  # units per hidden layer (the recipe's widest is 512)
MAX_CONV_LAYERS = 8  # stride-2 convolutions (a 256-px side halves 6 times down to 4)
MAX_CONV_CHANNELS = 1024  # channels per convolution (the beta-VAE's widest is 64)
MAX_CHANNELS = 4  # image channels (MNIST-like data has 1, colour 3)
MAX_SIDE = 256  # image height and width in pixels (28 and 8 in practice)
MAX_MC_SAMPLES = 1000  # L; the paper uses 1
MAX_BETA = 1e4  # the KL weight; beta-VAEs use up to a few hundred
MIN_SIGMA_DEC, MAX_SIGMA_DEC = 1e-4, 100.0  # the gaussian decoder's std, in [0, 1] pixel units
MAX_IW_SAMPLES = 100_000  # K of an IW-NLL (papers use 5,000): beyond it nothing is gained but hours


def _show(v, n: int = 40) -> str:
    """A value for a message, never a megabyte of it."""
    r = repr(v)
    return r if len(r) <= n else r[: n - 1] + "…"


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def _choice(name: str, v, options: tuple) -> str | None:
    if isinstance(v, str) and v in options:
        return None
    return f"{name} must be one of {', '.join(options)}, not {_show(v)}"


def _whole(name: str, v, lo: int, hi: int) -> str | None:
    if _is_int(v) and lo <= v <= hi:
        return None
    return f"{name} must be a whole number from {lo} to {hi:,}, not {_show(v)}"


def _real(name: str, v, lo: float, hi: float) -> str | None:
    if isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v) and lo <= v <= hi:
        return None
    return f"{name} must be a finite number from {lo:g} to {hi:g}, not {_show(v)}"


def _widths(name: str, v, max_len: int, hi: int) -> str | None:
    if not isinstance(v, (list, tuple)) or len(v) > max_len:
        return f"{name} must be a list of at most {max_len} layer widths, not {_show(v)}"
    for h in v:
        if not (_is_int(h) and 1 <= h <= hi):
            return f"{name} layer widths must be whole numbers from 1 to {hi:,}, not {_show(h)}"
    return None


def _image_shape(v) -> str | None:
    ok = isinstance(v, (list, tuple)) and len(v) == 3 and all(_is_int(s) for s in v)
    if ok and 1 <= v[0] <= MAX_CHANNELS and all(1 <= s <= MAX_SIDE for s in v[1:]):
        return None
    return (
        f"image_shape must be (channels, height, width) with 1 to {MAX_CHANNELS} channels and sides "
        f"of 1 to {MAX_SIDE} pixels, not {_show(v)}"
    )


def conv_layers(config: ModelConfig) -> list[tuple[int, int, tuple[int, int]]]:
    """The conv family's stride-2 convolutions, encoder order: (in channels, out channels, output
    side (h, w)) each; [] for the MLP.

    The side halves while it is even and above MIN_CONV_SIDE, for at most len(conv_channels)
    layers: 64 -> 32 -> 16 -> 8 -> 4 (four layers), 32 -> 16 -> 8 -> 4 (three), 28 -> 14 -> 7
    (two: 7 is odd, and a transposed convolution can only double a side back)."""
    if config.arch != "conv":
        return []
    c, h, w = config.image_shape
    out = []
    for channels in config.conv_channels:
        if h % 2 or w % 2 or min(h, w) <= MIN_CONV_SIDE:
            break
        h, w = h // STRIDE, w // STRIDE
        out.append((c, channels, (h, w)))
        c = channels
    return out


def layer_sizes(config: ModelConfig) -> dict[str, list[int]]:
    """Widths of the encoder's and the decoder's fully connected layers, input first.

    The first encoder width is the flattened input: the pixels (MLP) or the last convolution's
    feature map (conv). The encoder ends in 2D units (mean and log-variance) except for the
    autoencoder, whose code is the mean alone; the decoder mirrors the hidden widths back."""
    convs, d = conv_layers(config), config.latent_dim
    flat = convs[-1][1] * math.prod(convs[-1][2]) if convs else math.prod(config.image_shape)
    return {
        "encoder": [flat, *config.hidden, d if config.kind == "ae" else 2 * d],
        "decoder": [d, *reversed(config.hidden), flat],
    }
