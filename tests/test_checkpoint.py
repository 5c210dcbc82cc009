import json
import pickle

import pytest
import torch

import vae_core
from vae_core.checkpoint import CheckpointError, read_header


@pytest.mark.parametrize("kind", ["vae", "ae", "kl"])
def test_round_trip_gives_identical_outputs(tmp_path, tiny_model, images8, kind):
    model = tiny_model(kind).eval()
    path = vae_core.save_checkpoint(
        model, tmp_path / "m.safetensors", {"dataset": "digits", "metrics": {"kl": float("inf")}}
    )
    loaded, meta = vae_core.load_checkpoint(path)
    assert meta["kind"] == kind and meta["dataset"] == "digits"
    assert meta["metrics"]["kl"] is None  # strict JSON: no infinity in the file
    assert not loaded.training
    with torch.inference_mode():
        torch.testing.assert_close(loaded.encode(images8).mean, model.encode(images8).mean, rtol=0, atol=0)
        z = torch.randn(4, model.config.latent_dim)
        torch.testing.assert_close(loaded.decode(z), model.decode(z), rtol=0, atol=0)


def test_save_leaves_no_temporary_files(tmp_path, tiny_model):
    vae_core.save_checkpoint(tiny_model(), tmp_path / "m.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


class Boom:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize("name", ["evil.safetensors", "evil.pt", "evil.ckpt"])
def test_pickle_files_are_refused_and_never_run(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    path.write_bytes(pickle.dumps({"state_dict": Boom()}, protocol=4))
    with pytest.raises(CheckpointError, match="pickle"):
        vae_core.load_checkpoint(path)
    assert not (tmp_path / "PWNED").exists()


def test_torch_save_zip_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="pickle"):
        vae_core.load_checkpoint(path)


def _write_with_header(path, header: dict, body: bytes = b""):
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + body)


def test_bad_files_get_one_clear_error_each(tmp_path, tiny_model):
    good = vae_core.save_checkpoint(tiny_model(), tmp_path / "good.safetensors", {})
    blob = good.read_bytes()
    cases = {
        "empty": (b"", "empty"),
        "text": (b"hello, I am not a model at all", "not a safetensors"),
        "truncated": (blob[: len(blob) // 2], "truncated"),
        "header-only": (blob[:40], "truncated|corrupt"),
    }
    for name, (data, msg) in cases.items():
        p = tmp_path / f"{name}.safetensors"
        p.write_bytes(data)
        with pytest.raises(CheckpointError, match=msg):
            vae_core.load_checkpoint(p)
    with pytest.raises(CheckpointError, match="no such"):
        vae_core.load_checkpoint(tmp_path / "missing.safetensors")


def test_future_and_foreign_files_are_refused(tmp_path, tiny_model):
    good = vae_core.save_checkpoint(tiny_model(), tmp_path / "good.safetensors", {})
    header = read_header(good)
    blob = good.read_bytes()
    body = blob[8 + int.from_bytes(blob[:8], "little") :]
    future = dict(header, __metadata__={**header["__metadata__"], "format_version": "99"})
    _write_with_header(tmp_path / "future.safetensors", future, body)
    with pytest.raises(CheckpointError, match="newer vae_core"):
        vae_core.load_checkpoint(tmp_path / "future.safetensors")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(3)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(CheckpointError, match="not a vae_core checkpoint"):
        vae_core.load_checkpoint(tmp_path / "foreign.safetensors")


def test_weights_that_do_not_match_the_metadata_are_refused(tmp_path, tiny_model):
    small = tiny_model(latent_dim=3)
    path = vae_core.save_checkpoint(small, tmp_path / "m.safetensors", {})
    # Rewrite the metadata to claim a different latent size than the stored weights have.
    header = read_header(path)
    meta = json.loads(header["__metadata__"]["meta"])
    meta["model_config"]["latent_dim"] = 5
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path))
    save_file(tensors, str(path), metadata={**header["__metadata__"], "meta": json.dumps(meta)})
    with pytest.raises(CheckpointError, match="do not match"):
        vae_core.load_checkpoint(path)


def test_extras_travel_beside_the_weights_and_stay_out_of_the_model(tmp_path, tiny_model):
    film = torch.randn(3, 5, 2, generator=torch.Generator().manual_seed(0)).half()
    path = vae_core.save_checkpoint(tiny_model(), tmp_path / "m.safetensors", {}, extras={"film_codes": film})
    model, _ = vae_core.load_checkpoint(path)
    assert not any(k.startswith("extra") for k in model.state_dict())
    extras = vae_core.checkpoint.read_extras(path)
    assert list(extras) == ["film_codes"] and torch.equal(extras["film_codes"], film)
    plain = vae_core.save_checkpoint(tiny_model(), tmp_path / "plain.safetensors", {})
    assert vae_core.checkpoint.read_extras(plain) == {}


def test_half_precision_storage_loads_as_a_float32_model(tmp_path, tiny_model, images8):
    model = tiny_model().eval()
    full = vae_core.save_checkpoint(model, tmp_path / "full.safetensors", {})
    half = vae_core.save_checkpoint(model, tmp_path / "half.safetensors", {}, dtype=torch.float16)
    assert half.stat().st_size < full.stat().st_size
    loaded, _ = vae_core.load_checkpoint(half, device="cpu")
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    with torch.inference_mode():
        torch.testing.assert_close(loaded(images8), model(images8), rtol=0, atol=2e-3)
