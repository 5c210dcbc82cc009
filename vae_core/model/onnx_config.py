"""The ONNX model format "vae-explorer-onnx/1": a folder with two graphs and a manifest.

    NAME/encoder.onnx   images float32 [N, C, H, W] in [0, 1] -> mean, logvar float32 [N, D]
                        (an autoencoder's encoder may give mean alone: a point mass)
    NAME/decoder.onnx   z float32 [N, D] -> logits or probs float32 [N, C, H, W]
    NAME/model.json     the manifest, read here into an OnnxConfig

No torch and no onnx here: the registry lists ONNX folders from the manifest alone, and the
manifest is untrusted like a checkpoint header, so every field is checked by type and bound with
the same rules as ModelConfig (vae_core.model.config) before anything reads it. The README's
"Your own model" section documents exactly these fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

from .config import (
    KINDS,
    LIKELIHOODS,
    MAX_BETA,
    MAX_SIGMA_DEC,
    MIN_SIGMA_DEC,
    ModelConfig,
    _choice,
    _image_shape,
    _real,
    _show,
    _whole,
)
from .config import MAX_LATENT_DIM as _MAX_D

FORMAT = "vae-explorer-onnx/1"
MANIFEST, ENCODER, DECODER = "model.json", "encoder.onnx", "decoder.onnx"
DECODER_OUTPUTS = ("logits", "probs")
ROLES = ("images", "mean", "logvar", "z", "logits", "probs")  # tensor roles; the default names too
REQUIRED = ("format", "name", "image_shape", "latent_dim", "decoder_output", "likelihood", "dataset")
MAX_NAME_CHARS = 100  # "name"
MAX_DESCRIPTION_CHARS = 2000  # "description"
MAX_TEXT_CHARS = 200  # "dataset" and a tensor name
# A gaussian decoder's NLL depends on sigma_dec; a bernoulli one ignores it (ModelConfig's default).
DEFAULT_SIGMA_DEC = ModelConfig.__dataclass_fields__["sigma_dec"].default


@dataclass(frozen=True)
class OnnxConfig:
    """model.json, checked; read by code written for ModelConfig (kind, latent_dim, image_shape,
    likelihood, sigma_dec, beta), plus what only an ONNX model has."""

    name: str  # shown in the picker
    image_shape: tuple[int, int, int]  # C, H, W of the images the encoder takes
    latent_dim: int  # D
    decoder_output: str  # "logits" (pre-sigmoid) or "probs" (in [0, 1])
    likelihood: str  # p(x|z): bernoulli (cross-entropy) or gaussian (L2 with sigma_dec)
    dataset: str  # a vae_core dataset name (mnist5k, fashion, folder:PATH, ...) or the user's own word
    kind: str = "vae"  # vae | ae (encoder gives mean alone) | kl
    beta: float = 1.0  # the KL weight it was trained with (informational)
    sigma_dec: float = DEFAULT_SIGMA_DEC  # the gaussian decoder's std in pixel units (required then)
    description: str = ""
    tensor_names: dict = field(default_factory=lambda: {r: r for r in ROLES}, hash=False)  # role -> graph name

    arch: ClassVar[str] = "onnx"  # how code tells an ONNX model from ours (ModelConfig has "mlp", "conv")
    mc_samples: ClassVar[int] = 1  # read by code written for ModelConfig; an ONNX model is never trained

    @property
    def point_mass(self) -> bool:
        """The encoder gives the mean alone (an autoencoder's deterministic code)."""
        return self.kind == "ae"

    def to_dict(self) -> dict:
        """The model settings as meta["model_config"] carries them for our checkpoints."""
        keys = ("kind", "latent_dim", "image_shape", "beta", "likelihood", "sigma_dec", "decoder_output")
        return {"arch": self.arch, **{k: getattr(self, k) for k in keys}, "tensor_names": dict(self.tensor_names)}

    def manifest(self) -> dict:
        """model.json's content (what the exporter writes; from_manifest reads it back)."""
        out = {"format": FORMAT, **{f.name: getattr(self, f.name) for f in fields(self)}}
        out["image_shape"] = list(self.image_shape)
        if self.likelihood != "gaussian":
            out.pop("sigma_dec")
        if out["tensor_names"] == {r: r for r in ROLES}:
            out.pop("tensor_names")
        return out

    @classmethod
    def from_manifest(cls, d) -> OnnxConfig:
        """Checked fields -> OnnxConfig; ValueError with one line naming the first bad field."""
        if not isinstance(d, dict):
            raise ValueError(f"the manifest must be a JSON object, not {type(d).__name__}")
        if d.get("format") != FORMAT:
            raise ValueError(f'"format" must be "{FORMAT}", not {_show(d.get("format"))}')
        missing = [k for k in REQUIRED if k not in d]
        if missing:
            raise ValueError(f"the manifest lacks {', '.join(repr(k) for k in missing)}")
        allowed = {"format", *(f.name for f in fields(cls))}
        unknown = sorted(str(k) for k in d if k not in allowed)
        if unknown:
            raise ValueError(
                f"unknown manifest fields {', '.join(_show(k) for k in unknown[:5])} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
        problem = next((p for p in _problems(d) if p), None)
        if problem:
            raise ValueError(problem)
        values = {k: v for k, v in d.items() if k != "format"}
        values["image_shape"] = tuple(int(s) for s in d["image_shape"])
        values["tensor_names"] = {r: r for r in ROLES} | dict(d.get("tensor_names", {}))
        for k in ("beta", "sigma_dec"):
            if k in values:
                values[k] = float(values[k])
        return cls(**values)


def _problems(d: dict) -> list[str | None]:
    return [
        _text("name", d["name"], MAX_NAME_CHARS, required=True),
        _image_shape(d["image_shape"]),
        _whole("latent_dim", d["latent_dim"], 1, _MAX_D),
        _choice("decoder_output", d["decoder_output"], DECODER_OUTPUTS),
        _choice("likelihood", d["likelihood"], LIKELIHOODS),
        _text("dataset", d["dataset"], MAX_TEXT_CHARS, required=True),
        _choice("kind", d.get("kind", "vae"), KINDS),
        _real("beta", d.get("beta", 1.0), 0.0, MAX_BETA),
        _sigma(d),
        _text("description", d.get("description", ""), MAX_DESCRIPTION_CHARS),
        _tensor_names(d.get("tensor_names", {})),
    ]


def _text(name: str, v, limit: int, required: bool = False) -> str | None:
    if not isinstance(v, str) or len(v) > limit or (required and not v.strip()):
        return f"{name} must be {'non-empty ' if required else ''}text of at most {limit} characters, not {_show(v)}"
    if not all(c.isprintable() for c in v if c != "\n"):
        return f"{name} must not contain control characters"
    return None


def _sigma(d: dict) -> str | None:
    if d["likelihood"] == "gaussian" and "sigma_dec" not in d:
        return "a gaussian decoder needs sigma_dec, its std in pixel units (its NLL depends on it)"
    return _real("sigma_dec", d.get("sigma_dec", DEFAULT_SIGMA_DEC), MIN_SIGMA_DEC, MAX_SIGMA_DEC)


def _tensor_names(v) -> str | None:
    if not isinstance(v, dict):
        return f"tensor_names must map roles ({', '.join(ROLES)}) to names, not {_show(v)}"
    for role, name in v.items():
        if role not in ROLES:
            return f"tensor_names: unknown role {_show(role)} (roles: {', '.join(ROLES)})"
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_TEXT_CHARS or not name.isprintable():
            return f"tensor_names: the name for {role} must be printable text of 1 to {MAX_TEXT_CHARS} characters"
    return None
