import json
import pickle

import numpy as np
import pytest
import torch
from test_fuzz_checkpoint import DEEP_LIST, Raw, dumps

import vae_core
from vae_core.io import registry
from vae_core.io.header import CheckpointError, read_header


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
    extras = vae_core.io.checkpoint.read_extras(path)
    assert list(extras) == ["film_codes"] and torch.equal(extras["film_codes"], film)
    plain = vae_core.save_checkpoint(tiny_model(), tmp_path / "plain.safetensors", {})
    assert vae_core.io.checkpoint.read_extras(plain) == {}


def test_half_precision_storage_loads_as_a_float32_model(tmp_path, tiny_model, images8):
    model = tiny_model().eval()
    full = vae_core.save_checkpoint(model, tmp_path / "full.safetensors", {})
    half = vae_core.save_checkpoint(model, tmp_path / "half.safetensors", {}, dtype=torch.float16)
    assert half.stat().st_size < full.stat().st_size
    loaded, _ = vae_core.load_checkpoint(half, device="cpu")
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    with torch.inference_mode():
        torch.testing.assert_close(loaded(images8), model(images8), rtol=0, atol=2e-3)


# --- Hostile headers: every malformed field is one CheckpointError, cheaply (issue 9) ---------


def rewrite(src, dst, *, config=None, meta=None, entries=None, header_text=None):
    """A copy of checkpoint `src` with parts of its header replaced (values may be Raw JSON text)."""
    blob = src.read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + n])
    m = json.loads(header["__metadata__"]["meta"])
    m["model_config"].update(config or {})
    m.update(meta or {})
    header["__metadata__"]["meta"] = dumps(m)
    header.update(entries or {})
    text = (header_text or dumps(header)).encode()
    dst.write_bytes(len(text).to_bytes(8, "little") + text + blob[8 + n :])
    return dst


def hostile_files(folder, good):
    """One file per class of malformed header named in issue 9: {file name: words its error must contain}."""
    w = {"dtype": "F32", "shape": [16, 64]}
    cases = {
        "deep-nesting": ({"header_text": "[" * 100_000 + "]" * 100_000}, "corrupt"),
        "deep-meta": ({"meta": {"history": Raw(DEEP_LIST)}}, "metadata is corrupt"),
        "digits-5000": ({"meta": {"seed": Raw("9" * 5000)}}, "metadata is corrupt"),
        "infinity-offsets": ({"entries": {"encoder.0.weight": {**w, "data_offsets": [0, Raw("Infinity")]}}}, "offsets"),
        "shape-number": ({"entries": {"encoder.0.weight": {**w, "shape": 7, "data_offsets": [0, 4096]}}}, "shape"),
        "shape-null": ({"entries": {"encoder.0.weight": {**w, "shape": None, "data_offsets": [0, 4096]}}}, "shape"),
        "latent-2.5": ({"config": {"latent_dim": 2.5}}, "latent size must be a whole number from 1 to 1,024"),
        "latent-1e30": ({"config": {"latent_dim": 1e30}}, "latent size"),
        "hidden-1e30": ({"config": {"hidden": [1e30]}}, "widths must be whole numbers from 1 to 8,192"),
        "hidden-20000": ({"config": {"hidden": [1] * 20000}}, "at most 16 layer widths"),
        "image-1e10": ({"config": {"image_shape": Raw("1e10")}}, "image_shape"),
        "sigma-inf": ({"config": {"sigma_dec": Raw("Infinity")}}, "sigma_dec must be a finite number"),
        "beta-nan": ({"config": {"beta": Raw("NaN")}}, "beta must be a finite number"),
        "bool-latent": ({"config": {"latent_dim": True}}, "latent size"),
        "kind-list": ({"meta": {"kind": ["vae"]}}, "'kind' is malformed"),
        "kind-dict": ({"meta": {"kind": {"vae": 1}}}, "'kind' is malformed"),
        "kind-other": ({"meta": {"kind": "kl"}}, "its metadata says kind"),
        "evaluation-list": ({"meta": {"evaluation": [1, 2]}}, "'evaluation' is malformed"),
    }
    for name, (kw, _) in cases.items():
        rewrite(good, folder / f"{name}.safetensors", **kw)
    return {f"{name}.safetensors": words for name, (_, words) in cases.items()}


def test_every_malformed_header_field_is_one_checkpoint_error(tmp_path, tiny_model):
    good = vae_core.save_checkpoint(tiny_model(hidden=(16,)), tmp_path / "good.safetensors", {"dataset": "digits"})
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, words in hostile_files(folder, good).items():
        with pytest.raises(CheckpointError) as e:
            vae_core.load_checkpoint(folder / name)
        assert words in str(e.value) and "\n" not in str(e.value), (name, str(e.value))
        with pytest.raises(CheckpointError):
            vae_core.io.header.read_meta(folder / name)


def test_the_registry_lists_each_class_with_a_reason_without_building_anything(tmp_path, tiny_model, monkeypatch):
    import time
    import tracemalloc

    good = vae_core.save_checkpoint(tiny_model(hidden=(16,)), tmp_path / "good.safetensors", {"dataset": "digits"})
    expected = hostile_files(tmp_path, good)
    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"x": 1}))

    def no_models(*a, **k):
        raise AssertionError("the registry built a model")

    monkeypatch.setattr(vae_core.model.mlp.VAE, "__init__", no_models)
    registry._describe.cache_clear()
    tracemalloc.start()
    t0 = time.perf_counter()
    entries = {e.path.name: e for e in registry.scan(tmp_path)}
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert entries["good.safetensors"].ok and not entries["evil.pt"].ok
    for name, words in expected.items():
        assert not entries[name].ok and words in entries[name].error, (name, entries[name].error)
    print(f"scan of {len(entries)} files: {seconds * 1000:.0f} ms, peak {peak / 2**20:.1f} MB allocated")
    assert peak < 40 * 2**20  # the 20,000-layer config alone used to cost 280 MB
    assert seconds < 5  # measured ~30 ms; a generous bound for a busy machine, not a speed target


def test_file_names_that_are_not_utf8_are_listed_not_fatal(tmp_path, tiny_model):
    import os

    good = vae_core.save_checkpoint(tiny_model(), tmp_path / "good.safetensors", {})
    odd = os.fsdecode(b"caf\xe9-\xff.safetensors")
    (tmp_path / odd).write_bytes(good.read_bytes())
    (tmp_path / os.fsdecode(b"\xfe.pt")).write_bytes(b"\x80\x04")
    entries = registry.scan(tmp_path)
    assert len(entries) == 3
    for e in entries:
        for text in (e.label, e.name, e.error or ""):
            text.encode("utf-8")  # what Streamlit must be able to send
    bad = [e for e in entries if not e.ok]
    assert len(bad) == 2 and any("not valid UTF-8" in e.error for e in bad)


def test_model_settings_are_strictly_typed_and_bounded():
    from vae_core.model.config import ModelConfig

    for ok in (
        dict(latent_dim=512, hidden=(512, 256)),
        dict(latent_dim=2, hidden=[8], image_shape=[1, 8, 8]),
        dict(latent_dim=np.int64(16), hidden=(np.int32(512),), beta=np.float32(4.0)),
        dict(likelihood="gaussian", sigma_dec=0.05, mc_samples=5, beta=0),
        dict(hidden=()),
    ):
        cfg = ModelConfig(**ok)
        assert type(cfg.latent_dim) is int and all(type(h) is int for h in cfg.hidden)
    for bad, words in (
        (dict(latent_dim=2.5), "latent size must be a whole number from 1 to 1,024, not 2.5"),
        (dict(latent_dim=True), "not True"),
        (dict(latent_dim=16.0), "not 16.0"),
        (dict(hidden=[1] * 17), "at most 16 layer widths"),
        (dict(hidden=(512, 10**6)), "from 1 to 8,192, not 1000000"),
        (dict(hidden=512), "list of at most 16"),
        (dict(image_shape=(1, 1000, 1000)), "sides of 1 to 256 pixels"),
        (dict(image_shape=(1, 28)), "(channels, height, width)"),
        (dict(sigma_dec=float("inf")), "sigma_dec must be a finite number from 0.0001 to 100, not inf"),
        (dict(sigma_dec=0), "sigma_dec"),
        (dict(beta=float("nan")), "beta must be a finite number"),
        (dict(beta=1e9), "from 0 to 10000"),
        (dict(mc_samples=0), "mc_samples must be a whole number from 1 to 1,000"),
        (dict(kind=["vae"]), "kind must be one of vae, ae, kl"),
        (dict(activation="tanh"), "activation must be one of elu, relu"),
    ):
        with pytest.raises(ValueError, match="Invalid model settings") as e:
            ModelConfig(**bad)
        assert words in str(e.value), (bad, str(e.value))


@pytest.mark.parametrize(
    "cfg",
    [dict(kind="vae", latent_dim=3, hidden=(16, 8)), dict(kind="ae", latent_dim=2, hidden=()), dict(kind="kl")],
)
def test_expected_shapes_are_the_modules_shapes(cfg):
    from vae_core.io.header import expected_shapes
    from vae_core.model.config import ModelConfig
    from vae_core.model.mlp import VAE

    config = ModelConfig(**cfg)
    with torch.device("meta"):
        real = {k: tuple(v.shape) for k, v in VAE(config).state_dict().items()}
    assert expected_shapes(config) == real


# --- Storage precision, overflowing weights, a file replaced mid-load -------------------------


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64, torch.float32])
def test_every_float_storage_dtype_loads_as_float32_and_maps(tmp_path, tiny_model, dtype):
    from vae_core.model.estimators import encode_all

    model = tiny_model().eval()
    path = vae_core.save_checkpoint(model, tmp_path / "m.safetensors", {}, dtype=dtype)
    loaded, _ = vae_core.load_checkpoint(path)
    assert all(p.dtype == torch.float32 for p in loaded.state_dict().values())
    images = vae_core.load_dataset("digits", "val").images[:64]
    mean, logvar = encode_all(loaded, images)  # what the Latent map page computes
    assert mean.shape == (64, 3) and mean.dtype == torch.float32 and torch.isfinite(mean).all()
    with torch.inference_mode():
        tol = {torch.float16: 5e-3, torch.bfloat16: 5e-2}.get(dtype, 1e-6)
        torch.testing.assert_close(mean, model.encode(images).mean, rtol=0, atol=tol)


def test_integer_weights_are_refused_with_one_message(tmp_path, tiny_model):
    with pytest.raises(ValueError, match="float16, bfloat16, float32 or float64, not torch.int8"):
        vae_core.save_checkpoint(tiny_model(), tmp_path / "m.safetensors", {}, dtype=torch.int8)
    assert not list(tmp_path.iterdir())
    from safetensors.torch import save_file

    good = vae_core.save_checkpoint(tiny_model(), tmp_path / "good.safetensors", {})
    header = read_header(good)
    from safetensors.torch import load_file

    tensors = {k: (v * 100).to(torch.int8) for k, v in load_file(str(good)).items()}
    save_file(tensors, str(tmp_path / "int8.safetensors"), metadata=header["__metadata__"])
    with pytest.raises(CheckpointError, match="stored as I8; only float16, bfloat16, float32 and float64"):
        vae_core.load_checkpoint(tmp_path / "int8.safetensors")
    assert not registry.describe(tmp_path / "int8.safetensors", "yours").ok


def test_finite_weights_that_overflow_are_refused_at_load(tmp_path, tiny_model):
    model = tiny_model()
    with torch.no_grad():
        model.encoder[0].weight.fill_(1e30)  # finite, but every code is ~1e30: PCA would raise LinAlgError
    path = vae_core.save_checkpoint(model, tmp_path / "m.safetensors", {})
    with pytest.raises(CheckpointError, match="codes are not finite or exceed"):
        vae_core.load_checkpoint(path)
    model = tiny_model()
    with torch.no_grad():
        model.decoder[-1].bias.fill_(1e6)
    path = vae_core.save_checkpoint(model, tmp_path / "m.safetensors", {})
    with pytest.raises(CheckpointError, match="decoder's outputs"):
        vae_core.load_checkpoint(path)


def test_a_wide_posterior_on_junk_is_sound_but_an_absurd_one_is_refused(tmp_path, tiny_model):
    """Fashion's z = 2 VAE answers uniform noise with std ~4e6: an honest "I don't know", not a fault."""
    d = 3
    for bias, ok in ((30.0, True), (150.0, False)):
        model = tiny_model(latent_dim=d)
        with torch.no_grad():
            model.encoder[-1].bias[d:] = bias  # the log-variance half of the encoder's last layer
        path = vae_core.save_checkpoint(model, tmp_path / "m.safetensors", {})
        if ok:
            loaded, _ = vae_core.load_checkpoint(path)
            assert loaded.encode(torch.zeros(1, 1, 8, 8)).std.min() > 1e5
        else:
            with pytest.raises(CheckpointError, match="spreads are not finite or outside"):
                vae_core.load_checkpoint(path)


def test_a_file_replaced_during_a_load_gives_one_whole_model(tmp_path, tiny_model, monkeypatch):
    """The header and the weights come from one read: swapping the file in between cannot mix them."""
    import vae_core.io.checkpoint as ck

    path = vae_core.save_checkpoint(tiny_model(latent_dim=3), tmp_path / "m.safetensors", {"v": 1})
    other = vae_core.save_checkpoint(tiny_model(latent_dim=5), tmp_path / "o.safetensors", {"v": 2})
    real_parse = ck.parse_meta

    def parse_then_swap(name, header):
        out = real_parse(name, header)
        other.replace(path)  # what a concurrent save does between our steps
        return out

    monkeypatch.setattr(ck, "parse_meta", parse_then_swap)
    model, meta = vae_core.load_checkpoint(path)
    assert meta["v"] == 1 and model.config.latent_dim == 3


def test_extras_are_validated_on_save_and_on_load(tmp_path, tiny_model):
    for extras, words in (
        ({"bad name!": torch.zeros(2)}, "names are"),
        ({"b": torch.zeros(2, dtype=torch.bool)}, "not storable"),
        ({"c": torch.zeros(2, dtype=torch.complex64)}, "not storable"),
    ):
        with pytest.raises(ValueError, match=words):
            vae_core.save_checkpoint(tiny_model(), tmp_path / "m.safetensors", {}, extras=extras)
    good = vae_core.save_checkpoint(tiny_model(), tmp_path / "m.safetensors", {}, extras={"ok": torch.zeros(2)})
    blob = good.read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + n])
    header["extra.ok"]["dtype"] = "BOOL"
    header["extra.ok"]["shape"] = [8]
    bad = rewrite(good, tmp_path / "bool.safetensors", entries={"extra.ok": header["extra.ok"]})
    with pytest.raises(CheckpointError, match="not a number type"):
        vae_core.io.checkpoint.read_extras(bad)
