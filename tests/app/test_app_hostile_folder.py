"""Every page, through AppTest, with a model folder holding one file of every hostile class that
issue 9 found (plus the older ones): the pages keep working and the sidebar lists each file
with its reason. Both with the live map on and off."""

import json
import os

import pytest
import torch
from streamlit.testing.v1 import AppTest
from support import ROOT, option_of

import vae_core
from ui.frame.pages import VIEW_FILES
from vae_core.model.config import ModelConfig
from vae_core.model.mlp import VAE


def tiny(image_shape=(1, 8, 8), **kw):
    cfg = ModelConfig(latent_dim=2, hidden=(16,), image_shape=image_shape, **kw)
    return VAE(cfg, generator=torch.Generator().manual_seed(0))


def edit_header(blob: bytes, edit) -> bytes:
    """A copy of a safetensors file whose JSON header went through `edit(text) -> text`."""
    n = int.from_bytes(blob[:8], "little")
    head = edit(blob[8 : 8 + n].decode())
    raw = head.encode()
    return len(raw).to_bytes(8, "little") + raw + blob[8 + n :]


def edit_meta(blob: bytes, fn) -> bytes:
    """Change the vae_core metadata (a JSON string inside the header) with fn(meta: dict)."""

    def edit(text):
        header = json.loads(text)
        meta = json.loads(header["__metadata__"]["meta"])
        fn(meta)
        header["__metadata__"]["meta"] = json.dumps(meta)
        return json.dumps(header)

    return edit_header(blob, edit)


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    good = vae_core.save_checkpoint(tiny(), folder / "good-z2.safetensors", {"dataset": "digits"})
    blob = good.read_bytes()
    files = {
        "nested.safetensors": edit_meta(blob, lambda m: m.update(history="[" * 5000 + "]" * 5000)),
        "deep.safetensors": edit_header(blob, lambda t: t[:-1] + ', "x": ' + "[" * 3000 + "]" * 3000 + "}"),
        "bigint.safetensors": edit_header(
            blob, lambda t: t.replace('"data_offsets":[0,', '"data_offsets":[' + "9" * 5000 + ",", 1)
        ),
        "infinity.safetensors": edit_header(
            blob, lambda t: t.replace('"data_offsets":[0,', '"data_offsets":[Infinity,', 1)
        ),
        "shape-number.safetensors": edit_header(blob, lambda t: t.replace('"shape":[', '"shape":7,"x":[', 1)),
        "shape-null.safetensors": edit_header(blob, lambda t: t.replace('"shape":[', '"shape":null,"x":[', 1)),
        "latent-frac.safetensors": edit_meta(blob, lambda m: m["model_config"].update(latent_dim=2.5)),
        "latent-huge.safetensors": edit_meta(blob, lambda m: m["model_config"].update(latent_dim=1e30)),
        "hidden-huge.safetensors": edit_meta(blob, lambda m: m["model_config"].update(hidden=[1e30])),
        "hidden-many.safetensors": edit_meta(blob, lambda m: m["model_config"].update(hidden=[1] * 20000)),
        "image-huge.safetensors": edit_meta(blob, lambda m: m["model_config"].update(image_shape=1e10)),
        "kind-list.safetensors": edit_meta(blob, lambda m: m.update(kind=["vae"])),
        "kind-dict.safetensors": edit_meta(blob, lambda m: m.update(kind={"a": 1})),
        "sigma-inf.safetensors": edit_meta(blob, lambda m: m["model_config"].update(sigma_dec=float("inf"))),
        "empty.safetensors": b"",
        "notes.safetensors": b"not a model",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    for dtype in (torch.float16, torch.bfloat16, torch.float64):  # usable: cast to float32 on load
        vae_core.save_checkpoint(
            tiny(), folder / f"weights-{str(dtype)[6:]}.safetensors", {"dataset": "digits"}, dtype=dtype
        )
    (folder / "weights-int8.safetensors").write_bytes(_int8(tiny()))
    overflow = tiny()
    with torch.no_grad():
        overflow.encoder[0].weight.fill_(1e30)
    vae_core.save_checkpoint(overflow, folder / "overflow.safetensors", {"dataset": "digits"})
    vae_core.save_checkpoint(tiny(), folder / "elsewhere.safetensors", {"dataset": "imagenet"})  # not a dataset here
    vae_core.save_checkpoint(tiny((1, 16, 16)), folder / "sixteen.safetensors", {"dataset": "mnist5k"})  # no 16x16 data
    os.close(os.open(os.path.join(os.fsencode(folder), b"caf\xe9.safetensors"), os.O_CREAT | os.O_WRONLY))
    return folder


def _int8(model) -> bytes:
    from safetensors.torch import save

    tensors = {k: v.to(torch.int8) for k, v in model.state_dict().items()}
    meta = {"kind": "vae", "model_config": model.config.to_dict(), "dataset": "digits"}
    return save(tensors, {"format": "vae_core", "format_version": "1", "meta": json.dumps(meta)})


@pytest.mark.parametrize("live", ["0", "1"])
def test_every_page_works_with_a_folder_of_hostile_files(hostile_folder, monkeypatch, tmp_path, live):
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(hostile_folder))
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", live)
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=180)
    at.run()
    listed = " ".join(t.value for t in at.sidebar.text)
    for name in ("nested", "bigint", "infinity", "latent-huge", "hidden-many", "kind-list", "sigma-inf", "int8"):
        assert name in listed, name
    for name in ("sixteen", "caf"):
        assert name in listed, name
    options = at.sidebar.selectbox(key="model").options
    assert any("— weights-float16 ·" in o for o in options)  # other float dtypes are usable
    assert not any("— sixteen ·" in o for o in options)  # no dataset here has 16x16 images
    box = at.sidebar.selectbox(key="model")
    box.select_index(option_of(options, "elsewhere")).run()
    points_from = next(b for b in at.sidebar.selectbox if b.label == "Points from")
    assert points_from.options == ["digits"]  # its "imagenet" is not here: only data that fit are offered
    for page in VIEW_FILES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
    box = at.sidebar.selectbox(key="model")  # a file that passes the header checks but not the load-time probe
    box.select_index(option_of(box.options, "overflow")).run()
    at.switch_page(VIEW_FILES[0]).run()
    assert not at.exception
    assert any("cannot be used" in w.value and "overflow" in w.value for w in at.warning), [w.value for w in at.warning]
