"""What a ModelConfig builds, as data: each network's layers, the parameter shapes, the activations.

No torch here (a checkpoint header is checked against `parameter_shapes` without importing it).
The model (vae_core.model.base) builds its modules from `network_plan`, one module per entry in
order, so the plan's indices are the state-dict's names ("encoder.0.weight", ...); the header
check (vae_core.io.header.expected_shapes) and the memory estimate (vae_core.training.config)
read the same plan, so the three can never disagree.

Entries: ("linear", in, out), ("conv", in_ch, out_ch), ("deconv", in_ch, out_ch), ("act",),
("flatten",), ("unflatten", c, h, w). The MLP's plan is Linear layers at even indices with the
input flattened outside the network, as every checkpoint written before the conv family has it.
"""

from __future__ import annotations

import math

from .config import KERNEL, ModelConfig, conv_layers, layer_sizes


def _dense(widths: list[int]) -> list[tuple]:
    """Linear layers with an activation between consecutive ones (none after the last)."""
    out: list[tuple] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        out.append(("linear", a, b))
        if i < len(widths) - 2:
            out.append(("act",))
    return out


def network_plan(config: ModelConfig) -> dict[str, list[tuple]]:
    """The encoder's and the decoder's layers, in module order."""
    sizes, convs = layer_sizes(config), conv_layers(config)
    if config.arch == "mlp":
        return {"encoder": _dense(sizes["encoder"]), "decoder": _dense(sizes["decoder"])}
    encoder: list[tuple] = []
    for c_in, c_out, _ in convs:
        encoder += [("conv", c_in, c_out), ("act",)]
    encoder += [("flatten",), *_dense(sizes["encoder"])]
    if convs:  # the last convolution's map, upsampled back through the channels in reverse
        c, (h, w) = convs[-1][1], convs[-1][2]
        decoder = [*_dense(sizes["decoder"]), ("act",), ("unflatten", c, h, w)]
        for i, (c_in, c_out, _) in enumerate(reversed(convs)):
            decoder.append(("deconv", c_out, c_in))
            if i < len(convs) - 1:
                decoder.append(("act",))
    else:  # an odd side from the start: no convolution fits, the conv family is an MLP
        decoder = [*_dense(sizes["decoder"]), ("unflatten", *config.image_shape)]
    return {"encoder": encoder, "decoder": decoder}


def layer_parameter_shapes(layer: tuple) -> tuple[tuple, tuple] | None:
    """(weight shape, bias shape) of one plan entry, as torch stores them; None for parameter-free ones."""
    kind = layer[0]
    if kind == "linear":
        return (layer[2], layer[1]), (layer[2],)
    if kind == "conv":  # Conv2d: [out, in, k, k]
        return (layer[2], layer[1], KERNEL, KERNEL), (layer[2],)
    if kind == "deconv":  # ConvTranspose2d: [in, out, k, k]
        return (layer[1], layer[2], KERNEL, KERNEL), (layer[2],)
    return None


def parameter_shapes(config: ModelConfig) -> dict[str, tuple]:
    """Every parameter's name and shape, as the model's state dict has them."""
    shapes = {}
    for net, layers in network_plan(config).items():
        for i, layer in enumerate(layers):
            both = layer_parameter_shapes(layer)
            if both is not None:
                shapes[f"{net}.{i}.weight"], shapes[f"{net}.{i}.bias"] = both
    return shapes


def parameter_count(config: ModelConfig) -> int:
    """Weights and biases of both networks (arithmetic only: nothing is allocated)."""
    return sum(math.prod(s) for s in parameter_shapes(config).values())


def activation_count(config: ModelConfig) -> int:
    """Values one image produces on its way through both networks (every layer's output, the
    input and the code): what the backward pass keeps, per image and per sample of z."""
    convs = conv_layers(config)
    dense = sum(map(sum, layer_sizes(config).values()))  # the MLP's lists include its input and output pixels
    pixels = math.prod(config.image_shape)
    if not convs:
        return dense + pixels + config.latent_dim
    # conv: each feature map twice (the encoder's, and the decoder's mirror of it), the input and the output
    maps = sum(c_out * h * w for _, c_out, (h, w) in convs)
    return dense + 2 * maps + 2 * pixels + config.latent_dim
