"""The way most tutorials train a VAE, for comparison (pytorch/examples vae/main.py):
a torchvision dataset returning PIL images through ToTensor, a shuffling DataLoader, the
784-400-20 MLP, batch 128, Adam 1e-3, BCE summed. Nothing here is used by the product."""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import VisionDataset


class InMemoryMNIST(VisionDataset):
    """mnist5k as a torchvision dataset: uint8 images, a PIL image + transform per item."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        super().__init__(root="", transform=transforms.ToTensor())
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


class TutorialVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x.view(-1, 784)))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def train(images: np.ndarray, labels: np.ndarray, epochs: int, seed: int = 0, return_model: bool = False):
    """Train as the tutorial does; returns samples per second (and the model if asked)."""
    torch.manual_seed(seed)
    model = TutorialVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(InMemoryMNIST(images, labels), batch_size=128, shuffle=True)
    model.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        for x, _ in loader:
            opt.zero_grad()
            recon, mu, logvar = model(x)
            loss_function(recon, x, mu, logvar).backward()
            opt.step()
    sps = epochs * len(images) / (time.perf_counter() - t0)
    return (sps, model) if return_model else sps


@torch.no_grad()
def neg_elbo(model: TutorialVAE, x: torch.Tensor, seed: int = 0) -> float:
    """Mean negative ELBO per image (nats), one reparameterised sample, as vae_core reports it."""
    torch.manual_seed(seed)
    model.eval()
    recon, mu, logvar = model(x)
    return loss_function(recon, x, mu, logvar).item() / len(x)
