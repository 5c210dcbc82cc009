"""The sample judge: trains on the training split, round-trips safely, refuses bad files,
and the shipped files are as accurate as their metadata says."""

import json
import pickle

import pytest
import torch
from support import ROOT

import vae_core
from vae_core.io.classifier_file import classifier_for, load_classifier, save_classifier
from vae_core.io.header import CheckpointError
from vae_core.model.classifier import Classifier, ClassifierConfig, accuracy
from vae_core.training.classifier import train_classifier

SHIPPED = ROOT / "checkpoints" / "classifiers"
TINY = ClassifierConfig(channels=(8, 16), hidden=32, epochs=6, batch_size=64, lr=5e-3, augment_shift=0)


@pytest.fixture(scope="module")
def digits():
    return vae_core.load_dataset("digits", "train"), vae_core.load_dataset("digits", "val")


@pytest.fixture(scope="module")
def tiny(digits):
    train, val = digits
    return train_classifier(train, val, TINY, seed=0)


def test_training_learns_far_above_chance_and_reports_validation_accuracy(tiny, digits):
    model, acc = tiny
    assert acc > 0.6  # chance is 0.1
    assert acc == pytest.approx(accuracy(model, digits[1]))
    assert not model.training


def test_training_is_reproducible_from_the_seed(digits):
    train, val = digits
    cfg = ClassifierConfig(channels=(2, 4), hidden=8, epochs=1, batch_size=256)
    a, _ = train_classifier(train, val, cfg, seed=3)
    b, _ = train_classifier(train, val, cfg, seed=3)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k


def test_round_trip_gives_identical_probabilities(tmp_path, tiny, digits):
    model, acc = tiny
    path = save_classifier(
        model,
        tmp_path / "c.safetensors",
        {"dataset": "digits", "classes": list(digits[0].classes), "val_accuracy": acc},
    )
    loaded, meta = load_classifier(path)
    assert meta["dataset"] == "digits" and meta["image_shape"] == [1, 8, 8] and meta["val_accuracy"] == acc
    assert meta["config"]["channels"] == [8, 16]
    x = digits[1].images[:20]
    torch.testing.assert_close(loaded.predict_proba(x), model.predict_proba(x), rtol=0, atol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]  # no temporary file left


def test_predict_proba_refuses_images_of_another_shape(tiny):
    with pytest.raises(ValueError, match=r"\[N, 1, 8, 8\]"):
        tiny[0].predict_proba(torch.zeros(2, 1, 28, 28))


class Boom:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED",))


def _header_and_body(path):
    blob = path.read_bytes()
    n = int.from_bytes(blob[:8], "little")
    return json.loads(blob[8 : 8 + n]), blob[8 + n :]


def _write(path, header, body):
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + body)


def test_bad_files_are_refused_with_one_clear_reason(tmp_path, monkeypatch, tiny, tiny_model):
    monkeypatch.chdir(tmp_path)
    good = save_classifier(tiny[0], tmp_path / "good.safetensors", {"classes": [str(i) for i in range(10)]})
    header, body = _header_and_body(good)
    (tmp_path / "evil.safetensors").write_bytes(pickle.dumps(Boom(), protocol=4))
    (tmp_path / "half.safetensors").write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    meta = json.loads(header["__metadata__"]["meta"])
    wrong = dict(header, __metadata__={**header["__metadata__"], "meta": json.dumps({**meta, "classes": ["a", "b"]})})
    _write(tmp_path / "wrong.safetensors", wrong, body)
    future = dict(header, __metadata__={**header["__metadata__"], "format_version": "7"})
    _write(tmp_path / "future.safetensors", future, body)
    vae_core.save_checkpoint(tiny_model(), tmp_path / "vae.safetensors")
    cases = {
        "evil": "pickle",
        "half": "truncated",
        "wrong": "do not match",
        "future": "format '7'",
        "vae": "model checkpoint, but not a vae_core classifier",
        "missing": "no such",
    }
    for name, message in cases.items():
        with pytest.raises(CheckpointError, match=message):
            load_classifier(tmp_path / f"{name}.safetensors")
    assert not (tmp_path / "PWNED").exists()


def test_non_finite_weights_are_refused(tmp_path, tiny):
    model = Classifier(TINY, (1, 8, 8), 10, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.fc.weight[0, 0] = float("nan")
    path = save_classifier(model, tmp_path / "nan.safetensors", {"classes": [str(i) for i in range(10)]})
    with pytest.raises(CheckpointError, match="NaN"):
        load_classifier(path)


def test_config_errors_name_the_problem():
    with pytest.raises(ValueError, match="channels"):
        ClassifierConfig(channels=(4,))
    with pytest.raises(ValueError, match="learning rate"):
        ClassifierConfig(lr=0)


def test_classifier_for_finds_shipped_files_and_aliases(tmp_path):
    assert classifier_for("mnist5k", SHIPPED) == SHIPPED / "mnist5k.safetensors"
    assert classifier_for("mnist", SHIPPED) == SHIPPED / "mnist5k.safetensors"  # the same digits
    assert classifier_for("digits", tmp_path) is None


@pytest.mark.parametrize("name, floor", [("mnist5k", 0.97), ("digits", 0.95)])
def test_shipped_classifiers_reach_their_stated_validation_accuracy(name, floor):
    model, meta = load_classifier(SHIPPED / f"{name}.safetensors")
    val = vae_core.load_dataset(name, "val")
    measured = accuracy(model, val)
    assert measured == pytest.approx(meta["val_accuracy"], abs=1e-6)
    assert measured >= floor
    assert meta["classes"] == list(val.classes) and meta["n_train"] == len(vae_core.load_dataset(name, "train"))


def test_shipped_fashion_classifier_describes_itself():
    model, meta = load_classifier(SHIPPED / "fashion.safetensors")
    assert meta["dataset"] == "fashion" and meta["classes"][0] == "T-shirt"
    assert meta["n_train"] == 54_000 and meta["test_accuracy"] > 0.85 and meta["val_accuracy"] > 0.85
    assert model.image_shape == (1, 28, 28)
