"""What tests in several rooms share: the repository's root and hostile model folders."""

import pickle
from pathlib import Path

import vae_core

ROOT = Path(__file__).resolve().parents[1]


def make_bad_files(folder, good_model):
    folder.mkdir(parents=True, exist_ok=True)
    good = vae_core.save_checkpoint(good_model, folder / "good.safetensors", {"dataset": "digits"})
    blob = good.read_bytes()
    (folder / "empty.safetensors").write_bytes(b"")
    (folder / "truncated.safetensors").write_bytes(blob[: len(blob) - 100])
    (folder / "notes.safetensors").write_text("not a model")
    (folder / "evil.pt").write_bytes(pickle.dumps({"x": 1}))
    (folder / "evil.safetensors").write_bytes(pickle.dumps({"x": 1}))
    return good
