"""The training film: fixed validation images, evenly spaced frames, stored with the checkpoint."""

import json

import torch

import vae_core
from vae_core.cli.train import main
from vae_core.data import load_dataset
from vae_core.io.checkpoint import read_extras
from vae_core.training.film import MAX_FRAMES, film_index, frame_epochs


def test_short_runs_keep_every_epoch_and_long_ones_a_capped_even_spacing():
    assert frame_epochs(5) == [0, 1, 2, 3, 4, 5]
    long = frame_epochs(10_000)
    assert len(long) == MAX_FRAMES and long[0] == 0 and long[-1] == 10_000
    gaps = torch.tensor(long).diff()
    assert gaps.max() - gaps.min() <= 1  # even spacing, up to rounding
    assert frame_epochs(10, max_frames=0) == [] and frame_epochs(10, max_frames=1) == [10]


def test_film_images_are_the_same_whatever_the_training_seed():
    a, b = film_index(500), film_index(500)
    assert torch.equal(a, b) and len(a.unique()) == len(a) == 500 and torch.equal(a, a.sort().values)
    assert torch.equal(film_index(6000), film_index(6000)) and len(film_index(100)) == 100


def test_the_cli_stores_the_film_and_its_last_frame_is_the_saved_models_codes(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    argv = ["--dataset", "digits", "--epochs", "4", "--hidden", "32", "--latent-dim", "3", "--out", str(out)]
    assert main([*argv, "--precision", "fp32"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    extras = read_extras(out)
    codes, index, epochs = extras["film_codes"], extras["film_index"], extras["film_epochs"]
    assert codes.dtype == torch.float16 and index.dtype == epochs.dtype == torch.int64
    val = load_dataset("digits", "val")
    assert codes.shape == (5, len(val), 3) and epochs.tolist() == [0, 1, 2, 3, 4]
    assert torch.equal(index, film_index(len(val)))
    model, _ = vae_core.load_checkpoint(out)
    with torch.inference_mode():
        final = model.encode(val.images[index]).mean
    assert torch.allclose(codes[-1].float(), final, atol=2e-3, rtol=2e-3)  # float16 of the saved model's means
    assert not torch.allclose(codes[0].float(), final, atol=0.05)  # epoch 0 is the untrained encoder
    assert summary["film_frames"] == 5 and summary["film_ms_per_frame"] >= 0


def test_film_frames_zero_stores_no_film(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    argv = ["--dataset", "digits", "--epochs", "1", "--hidden", "16", "--film-frames", "0", "--out", str(out)]
    assert main(argv) == 0
    assert read_extras(out) == {}
    assert "film_frames" not in json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_checkpoint_whose_header_length_starts_with_0x80_is_not_taken_for_a_pickle(tmp_path, tiny_model):
    """Films make header sizes vary: 1 in 32 of them (sizes are multiples of 8) has 0x80 as its
    first byte, the pickle protocol marker. Such a file must still load."""
    model = tiny_model()
    path = tmp_path / "m.safetensors"
    extras = {"film_codes": torch.zeros(2, 3, 3, dtype=torch.float16)}
    for k in range(400):
        vae_core.save_checkpoint(model, path, {"pad": "x" * k}, extras=extras)
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    loaded, meta = vae_core.load_checkpoint(path)
    assert meta["pad"] == "x" * k and torch.equal(read_extras(path)["film_codes"], extras["film_codes"])
