"""folder:PATH: ImageFolder conventions, every kind of bad file skipped and named, the decode cache, the CLIs."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from image_folders import BAD_FILES, ODD_GOOD, class_folder, hostile_folder
from PIL import Image
from support import ROOT

import vae_core
from vae_core.data import DatasetUnavailable, folder, load_dataset, scan


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def hostile(tmp_path):
    return hostile_folder(tmp_path / "hostile")


def test_every_bad_file_is_skipped_named_and_counted(hostile, capsys):
    train = load_dataset(f"folder:{hostile}", "train")
    val = load_dataset(f"folder:{hostile}", "val")
    assert train.classes == ("blue", "red")  # sorted folder names; the empty class folder is ignored
    n_red = 8 + len(ODD_GOOD)
    assert len(train) + len(val) == 8 + n_red and train.labels.bincount().tolist() == [7, n_red - round(n_red * 0.1)]
    note = train.note
    assert note.startswith(f"{8 + n_red} images in 2 classes") and f"skipped {len(BAD_FILES) + 1}" in note
    skipped = dict(json.loads((next((hostile.parent / "cache").rglob("index.json"))).read_text())["skipped"])
    for name, reason in BAD_FILES.items():
        assert reason in skipped[name], (name, skipped[name])
    assert skipped["red/caf\ufffd.png"] == "name is not UTF-8"
    assert capsys.readouterr().err.count(note) == 1  # one summary line per process, not one per split
    x = train.images[:4]
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1


def test_odd_formats_decode_to_what_they_show(hostile):
    """JPEG, WebP, palette, CMYK, GIF (first frame), BMP, alpha (onto white): the red square."""
    data = load_dataset(f"folder:{hostile}", "train", image_size=32)
    names = json.loads(next((hostile.parent / "cache").rglob("index.json")).read_text())["names"]
    full = folder.cached_entry(scan.scan_folder(hostile), 32)["images"]
    for odd in ODD_GOOD:
        img = full[names.index(f"red/{odd}")].astype(int)
        if odd == "sixteen.png":  # a 16-bit grey ramp: scaled by its range, not clipped to white
            assert img[0, 0, 0] < img[0, -1, -1] and img.max() <= 255 and len(np.unique(img)) > 20
            continue
        r, g, b = (img[c, 10:18, 8:16].mean() for c in range(3))
        assert r > 150 and r > g + 60 and r > b + 60, (odd, r, g, b)  # red (alpha: pink, composited onto white)
    assert data.image_shape == (3, 32, 32)


def test_a_folder_with_no_usable_image_is_one_clear_error(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("x")
    (tmp_path / "junk" / "b.png").write_text("not a png")
    with pytest.raises(DatasetUnavailable, match=r"no usable image \(skipped 2: a.txt \(not an image\)"):
        load_dataset(f"folder:{tmp_path / 'junk'}", "train")
    with pytest.raises(DatasetUnavailable, match="is not a folder"):
        load_dataset(f"folder:{tmp_path / 'missing'}", "train")


def test_unlabelled_images_directly_in_the_folder(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    for i in range(20):
        Image.fromarray(np.full((30, 30), i * 10, np.uint8)).save(root / f"{i}.png")
    data = load_dataset(f"folder:{root}", "train")
    assert data.classes == () and not data.labelled and set(data.labels.tolist()) == {vae_core.data.UNLABELLED}
    assert data.image_shape == (1, 28, 28)  # grey data, 30 px -> 28 (the largest size not above it)
    assert len(data) + len(load_dataset(f"folder:{root}", "val")) == 20
    with pytest.raises(ValueError, match="no test split"):
        load_dataset(f"folder:{root}", "test")


def test_train_and_test_sub_folders_give_the_test_split(tmp_path):
    root = tmp_path / "split"
    class_folder(root / "train", n=10)
    class_folder(root / "test", n=3, colours={"red": (200, 0, 0)})  # a class only in train: same label indices
    (root / "README.txt").write_text("about")
    test = load_dataset(f"folder:{root}", "test")
    train, val = load_dataset(f"folder:{root}", "train"), load_dataset(f"folder:{root}", "val")
    assert test.classes == ("blue", "red") and test.labels.tolist() == [1, 1, 1]
    assert len(train) + len(val) == 20 and "skipped 1: README.txt (outside train/ and test/)" in test.note


@pytest.mark.parametrize("size", [28, 32, 64])
def test_channels_from_the_data_or_asked_for(tmp_path, size):
    grey = class_folder(tmp_path / "grey", n=4, grey=True)
    colour = class_folder(tmp_path / "colour", n=4)
    assert load_dataset(f"folder:{grey}", "train", image_size=size).image_shape == (1, size, size)
    assert load_dataset(f"folder:{colour}", "train", image_size=size).image_shape == (3, size, size)
    as_grey = load_dataset(f"folder:{colour}", "train", image_size=size, channels=1)
    as_colour = load_dataset(f"folder:{grey}", "train", image_size=size, channels=3).images[:]
    assert as_grey.image_shape == (1, size, size) and torch.equal(as_colour[:, 0], as_colour[:, 2])
    with pytest.raises(ValueError, match="must be one of 28, 32, 64"):
        load_dataset(f"folder:{grey}", "train", image_size=48)


def test_the_crop_and_resize_rule(tmp_path):
    """Centre crop to a square, then resize: a wide image's left and right margins are cut."""
    root = tmp_path / "wide"
    root.mkdir()
    a = np.zeros((64, 128), np.uint8)
    a[:, :24] = 255  # white band on the far left: outside the centred 64x64 square (x 32..96)
    a[16:48, 48:80] = 200  # a square in the middle
    for i in range(3):
        Image.fromarray(a).save(root / f"{i}.png")
    x = load_dataset(f"folder:{root}", "train", image_size=32).images[:][0, 0]
    assert x[:, :4].max() == 0 and x[16, 16] == pytest.approx(200 / 255, abs=0.02)


def test_the_second_load_decodes_nothing_and_a_change_decodes_again(tmp_path, monkeypatch):
    root = class_folder(tmp_path / "c", n=5)
    first = load_dataset(f"folder:{root}", "train")
    calls = []
    real = folder.decode_into
    monkeypatch.setattr(folder, "decode_into", lambda task: calls.append(task) or real(task))
    again = load_dataset(f"folder:{root}", "train")
    assert torch.equal(first.images[:], again.images[:]) and calls == []
    before = sum(len(load_dataset(f"folder:{root}", s)) for s in ("train", "val"))
    Image.fromarray(np.full((40, 48, 3), 255, np.uint8)).save(root / "red" / "new.png")
    assert sum(len(load_dataset(f"folder:{root}", s)) for s in ("train", "val")) == before + 1 and calls


def test_a_damaged_cache_is_decoded_again_not_trusted(tmp_path, cache):
    root = class_folder(tmp_path / "c", n=5)
    good = load_dataset(f"folder:{root}", "train").images[:]
    npy = next(cache.rglob("images.npy"))
    blob = bytearray(npy.read_bytes())
    blob[-1] ^= 0xFF  # one pixel changed: the CRC no longer matches
    npy.write_bytes(bytes(blob))
    assert torch.equal(load_dataset(f"folder:{root}", "train").images[:], good)
    next(cache.rglob("index.json")).write_text('{"version": 1, "n": -5}')
    assert torch.equal(load_dataset(f"folder:{root}", "train").images[:], good)


def test_the_bounds_are_named(tmp_path, monkeypatch):
    root = class_folder(tmp_path / "c", n=5)
    monkeypatch.setattr(scan, "MAX_IMAGES", 4)
    with pytest.raises(DatasetUnavailable, match="more than 4 images; the limit is 4"):
        load_dataset(f"folder:{root}", "train")
    monkeypatch.setattr(scan, "MAX_IMAGES", 100)
    monkeypatch.setattr(scan, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(DatasetUnavailable, match="more than 1,000 bytes of images; the limit is 1,000 bytes"):
        load_dataset(f"folder:{root}", "train")
    monkeypatch.setattr(scan, "MAX_ENTRIES", 3)
    with pytest.raises(DatasetUnavailable, match="more than 3 files and folders"):
        load_dataset(f"folder:{root}", "train")


def test_many_files_decode_in_worker_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(folder, "PARALLEL_FROM", 10)
    monkeypatch.setattr(folder, "CHUNK", 4)
    monkeypatch.setattr(folder, "_cores", lambda: 2)
    root = class_folder(tmp_path / "c", n=12)
    parallel = load_dataset(f"folder:{root}", "train").images[:]
    for f in (tmp_path / "cache").rglob("*.npy"):
        f.unlink()
    monkeypatch.setattr(folder, "PARALLEL_FROM", 10_000)
    assert torch.equal(load_dataset(f"folder:{root}", "train").images[:], parallel)


def run(*args, cache):
    env = {**os.environ, "VAE_EXPLORER_CACHE": str(cache), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    return r


def test_a_hostile_folder_trains_and_evaluates_through_the_clis(hostile, tmp_path, cache):
    out = tmp_path / "m.safetensors"
    tiny = ("--latent-dim", "2", "--hidden", "16", "--conv-channels", "4", "4", "--batch-size", "8")
    r = run("vae_core.train", "--arch", "conv", "--dataset", f"folder:{hostile}", "--epochs", "1", *tiny,
            "--image-size", "28", "--out", str(out), cache=cache)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "skipped 14: .DS_Store (hidden)" in r.stderr and r.stderr.count("images in 2 classes") == 1
    model, meta = vae_core.load_checkpoint(out)
    assert meta["dataset"] == f"folder:{hostile}" and model.config.image_shape == (3, 28, 28)
    r = run("vae_core.evaluate", str(out), "--iw-samples", "2", cache=cache)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    n_val = len(load_dataset(f"folder:{hostile}", "val", image_size=28, channels=3))
    assert result["split"] == "val" and result["n"] == n_val and result["neg_elbo"] > 0
    r = run("vae_core.sweep", "--beta", "1", "4", "--latent-dim", "2", "--out-dir", str(tmp_path / "sw"), "--commands",
            "--dataset", f"folder:{hostile}", "--image-size", "28", "--arch", "conv", cache=cache)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(f"--dataset folder:{hostile}") == 2 and "--image-size 28" in r.stdout
    r = run("vae_core.train", "--dataset", f"folder:{tmp_path / 'nowhere'}", "--out", str(out), cache=cache)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "is not a folder" in r.stderr


def test_unlabelled_folders_have_no_knn_accuracy(tmp_path, cache):
    root = tmp_path / "flat"
    root.mkdir()
    for i in range(20):
        Image.fromarray(np.full((28, 28), i * 12, np.uint8)).save(root / f"{i}.png")
    from vae_core.analysis.metrics import evaluate
    from vae_core.model.build import build_model

    train, val = load_dataset(f"folder:{root}", "train"), load_dataset(f"folder:{root}", "val")
    cfg = vae_core.ModelConfig(arch="conv", latent_dim=2, hidden=(8,), conv_channels=(4, 4), image_shape=(1, 28, 28))
    model = build_model(cfg, torch.Generator().manual_seed(0))
    assert evaluate(model, val, train, iw_samples=2)["knn_accuracy"] is None


def test_the_readme_folder_example_runs(tmp_path, monkeypatch):
    import re

    from vae_core.data import shapes

    text = (ROOT / "README.md").read_text()
    code = next(c for c in re.findall(r"```python\n(.*?)```", text, re.S) if "folder:/data/cells" in c)
    root = class_folder(tmp_path / "cells", n=6, w=80, h=70)
    empty = np.broadcast_to(np.zeros((1, 1, 64, 8), np.uint8), (shapes.N_IMAGES, 1, 64, 8))
    monkeypatch.setattr(shapes, "load_bits", lambda progress=None: empty)  # the factors, not 377 MB of pixels
    scope = {"vae_core": vae_core}
    exec(compile(code.replace("/data/cells", str(root)), "README.md", "exec"), scope)
    assert scope["data"].images[:8].shape == (8, 3, 64, 64) and scope["data"].classes == ("blue", "red")
    assert set(scope["shapes"].factors) == {"shape", "scale", "orientation", "pos_x", "pos_y"}


@pytest.mark.parametrize(
    "flags",
    [
        ["--image-size", "48"],
        ["--image-size", "0"],
        ["--image-size", "x"],
        ["--channels", "2"],
        ["--channels", "-1"],
        ["--arch", "resnet"],
        ["--conv-channels", "0"],
        ["--conv-channels", "5000"],
        ["--dataset", "folder:"],
        ["--dataset", "folder:/dev/null"],
        ["--dataset", "folder:/no/such/place"],
        ["--dataset", "folder:nul\x00byte"],
        ["--dataset", "digits", "--image-size", "28"],  # only a folder can be resized
        ["--dataset", "shapes", "--channels", "3"],
    ],
)
def test_bad_image_settings_are_one_line_and_exit_2(hostile, tmp_path, capsys, flags):
    from vae_core.cli import train

    argv = ["--dataset", f"folder:{hostile}", "--arch", "conv", "--epochs", "1"]
    argv += ["--out", str(tmp_path / "m.safetensors")]
    for flag, value in zip(flags[::2], flags[1::2], strict=True):
        argv = argv[: argv.index(flag)] + argv[argv.index(flag) + 2 :] if flag in argv else argv
        argv += [flag, value]
    assert train.main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip() and "images in 2 classes" not in line]
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    assert not (tmp_path / "m.safetensors").exists()
