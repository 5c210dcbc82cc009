"""The published likelihood protocol: dynamic binarisation in training, a fixed binarisation of the
evaluation split, an IWAE objective, and every likelihood figure labelled with what it measures."""

import json

import pytest
import torch

import vae_core
from vae_core.data.binarize import LIKELIHOOD_BINARIZED, LIKELIHOOD_GREY, binarized_once, digest
from vae_core.data.datasets import Dataset
from vae_core.model.config import ModelConfig
from vae_core.model.mlp import VAE
from vae_core.training.config import TrainConfig
from vae_core.training.trainer import Trainer


def coded_images(n: int = 8) -> torch.Tensor:
    """4x4 images whose first 3 pixels spell their index in bits (0 or 1: they binarise to themselves)
    and whose other 13 pixels are grey 0.5 (a fair coin each time they are binarised)."""
    x = torch.full((n, 1, 4, 4), 0.5)
    for i in range(n):
        x[i, 0, 0, :3] = torch.tensor([(i >> b) & 1 for b in range(3)], dtype=torch.float32)
    return x


class Recorder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))
        self.seen: list[torch.Tensor] = []

    def loss(self, x, generator=None, beta_scale=1.0):
        self.seen.append(x.clone())
        return type("Terms", (), {"loss": self.w * 0 + 1.0})()


def test_dynamic_binarisation_draws_fresh_bits_of_every_image_each_epoch():
    model, x = Recorder(), coded_images()
    cfg = TrainConfig(epochs=2, batch_size=8, augment_shift=0, film_frames=0, precision="fp32", binarize="dynamic")
    Trainer(model, cfg, Dataset("t", "train", x, torch.zeros(8, dtype=torch.long), ("a",)), device="cpu").run()
    epochs = []
    for batch in model.seen:  # one batch per epoch; put each image back at its index
        assert set(batch.unique().tolist()) <= {0.0, 1.0}
        index = (batch[:, 0, 0, :3] * torch.tensor([1.0, 2.0, 4.0])).sum(1).long()
        epochs.append(batch[index.argsort()])
    assert len(epochs) == 2 and not torch.equal(epochs[0], epochs[1])  # a fresh draw each epoch
    for b in epochs:
        torch.testing.assert_close(b[:, 0, 0, :3], x[:, 0, 0, :3])  # the same images, in bits


def test_grey_training_sees_the_grey_levels():
    model, x = Recorder(), coded_images()
    cfg = TrainConfig(epochs=1, batch_size=8, augment_shift=0, film_frames=0, precision="fp32")
    Trainer(model, cfg, Dataset("t", "train", x, torch.zeros(8, dtype=torch.long), ("a",)), device="cpu").run()
    assert (model.seen[0] == 0.5).sum() == 8 * 13


def test_the_evaluation_binarisation_is_one_fixed_draw():
    val = vae_core.load_dataset("digits", "val")
    a, b = binarized_once(val), binarized_once(val)
    assert torch.equal(a.images, b.images) and digest(a.images) == digest(b.images)
    assert set(a.images.unique().tolist()) <= {0.0, 1.0} and torch.equal(a.labels, val.labels)
    assert abs(a.images.mean().item() - val.images.mean().item()) < 0.01  # P(1) is the grey level
    assert not torch.equal(binarized_once(val, seed=1).images, a.images)


@pytest.fixture(scope="module")
def binarized_checkpoint(tmp_path_factory):
    from vae_core.cli.train import main

    out = tmp_path_factory.mktemp("bin") / "digits-bin.safetensors"
    args = ["--dataset", "digits", "--binarize", "dynamic", "--train-split", "trainval", "--epochs", "2",
            "--latent-dim", "2", "--hidden", "32", "--film-frames", "0", "--precision", "fp32",
            "--out", str(out)]  # fmt: skip
    return out, args, main


def test_train_cli_has_the_generated_binarize_flag_and_the_checkpoint_records_it(binarized_checkpoint, capsys):
    out, args, main = binarized_checkpoint
    assert main(args) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["likelihood"] == f"validation {LIKELIHOOD_BINARIZED} (in training data)"
    assert line["n_train"] == len(vae_core.load_dataset("digits", "trainval")) == 1797
    meta = vae_core.load_checkpoint(out)[1]
    assert meta["train_config"]["binarize"] == "dynamic" and meta["train_split"] == "trainval"


def test_evaluate_says_which_protocol_it_measured(binarized_checkpoint, capsys):
    from vae_core.cli.evaluate import main

    out = binarized_checkpoint[0]
    assert main([str(out), "--binarized", "--iw-samples", "5"]) == 0
    binarized = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert binarized["likelihood"] == LIKELIHOOD_BINARIZED and binarized["binarize_seed"] == 0
    assert binarized["binarized_sha256"] == digest(binarized_once(vae_core.load_dataset("digits", "val")).images)
    assert main([str(out), "--iw-samples", "5"]) == 0
    grey = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert grey["likelihood"] == LIKELIHOOD_GREY and "binarized_sha256" not in grey
    assert grey["nll_iw"] != binarized["nll_iw"]


def test_the_iwae_objective_is_a_tighter_bound_than_the_elbo():
    x = binarized_once(vae_core.load_dataset("digits", "val")).images[:64]
    cfg = dict(latent_dim=3, hidden=(16,), image_shape=(1, 8, 8), mc_samples=200)
    elbo = VAE(ModelConfig(**cfg), generator=torch.Generator().manual_seed(0))
    iwae = VAE(ModelConfig(**cfg, objective="iwae"), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        neg_elbo = elbo.loss(x, torch.Generator().manual_seed(1)).loss.item()
        neg_iwae = iwae.loss(x, torch.Generator().manual_seed(1)).loss.item()
    assert neg_iwae < neg_elbo - 0.5  # the same model and data: the importance-weighted bound is tighter
    loss = iwae.loss(x, torch.Generator().manual_seed(2)).loss
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in iwae.parameters())


def test_the_iwae_objective_needs_a_vae():
    with pytest.raises(ValueError, match="iwae objective needs kind vae"):
        ModelConfig(kind="ae", objective="iwae")
