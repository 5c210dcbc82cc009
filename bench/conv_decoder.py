"""A conv-sized decoder graph for the browser benchmark: what the conv models must decode in
≤ 30 ms from input to drawn image (issue 20), built here from a small torch module.

The decoder is the β-VAE's for 64x64 images (Burgess et al. 2018, appendix A.1; Higgins et al.
2017, table 1), the design the conv family follows: fully connected 10 -> 256 -> 256 -> 64·4·4,
then transposed convolutions 4x4 stride 2 through 64, 32, 32 channels up to 3 x 64 x 64 logits,
ELU between layers. Weights are random (seeded): the cost of a decode does not depend on them;
the last layer is scaled and its bias set per channel so the image has contrast and its three
channels differ (tests/browser/test_browser_livemap_onnx.py checks the painted colours channel by channel).
It is exported exactly as our models' decoders are (vae_core.io.onnx_export.graph_bytes: opset
18, dynamic batch, weights inside), and published to the browser as a decoder of kind "onnx".

    from bench.conv_decoder import conv_decoder_graph
    graph = conv_decoder_graph()          # bytes: z float32 [N, 10] -> logits float32 [N, 3, 64, 64]
"""

from __future__ import annotations

import functools

LATENT_DIM = 10  # the β-VAE papers' dSprites setting
IMAGE_SHAPE = (3, 64, 64)
CHANNELS = (64, 64, 32, 32)  # after the dense layers, then after each transposed convolution but the last
HIDDEN = 256


def conv_decoder(latent_dim: int = LATENT_DIM, image_shape=IMAGE_SHAPE, seed: int = 0):
    """The torch module: z [N, D] -> logits [N, C, H, W] (H = W = 4 * 2^4)."""
    import torch
    from torch import nn

    c, h, w = image_shape
    if (h, w) != (64, 64):
        raise ValueError("this benchmark decoder draws 64x64 images")
    torch.manual_seed(seed)
    first = CHANNELS[0]
    layers = [nn.Linear(latent_dim, HIDDEN), nn.ELU(), nn.Linear(HIDDEN, HIDDEN), nn.ELU()]
    layers += [nn.Linear(HIDDEN, first * 4 * 4), nn.ELU(), nn.Unflatten(1, (first, 4, 4))]
    widths = [*CHANNELS, c]
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.ConvTranspose2d(a, b, 4, stride=2, padding=1))
        if i < len(widths) - 2:
            layers.append(nn.ELU())
    with torch.no_grad():
        last = layers[-1]
        last.weight.mul_(30.0)
        last.bias.copy_(torch.linspace(1.5, -1.5, c))  # red brighter, blue darker: the channels differ
    return nn.Sequential(*layers).eval()


@functools.lru_cache(maxsize=2)
def conv_decoder_graph(latent_dim: int = LATENT_DIM, image_shape=IMAGE_SHAPE, seed: int = 0) -> bytes:
    """The module as ONNX bytes, exported like our models' decoders (input "z", output "logits")."""
    import torch

    from vae_core.io.onnx_export import DECODER_INPUT, DECODER_OUTPUT, EXAMPLE_BATCH, graph_bytes

    module = conv_decoder(latent_dim, tuple(image_shape), seed)
    z = torch.randn(EXAMPLE_BATCH, latent_dim, generator=torch.Generator().manual_seed(seed))
    return graph_bytes(module, z, [DECODER_INPUT], [DECODER_OUTPUT])
