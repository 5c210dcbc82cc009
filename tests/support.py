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


# --- a tiny colour image folder and a conv model of each kind trained on it (issue 20) ---

COLOUR_CLASSES = ("red-discs", "green-squares", "blue-bars")
COLOUR_PER_CLASS = 40
COLOUR_KINDS = ("vae", "ae", "kl")


def make_colour_folder(folder: Path, per_class: int = COLOUR_PER_CLASS, size: int = 32) -> Path:
    """Three class folders of small RGB PNGs (a disc, a square, a bar in one colour each, at a
    random place and size on a noisy background): colour that a grey pipeline would lose."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    colours = ((220, 40, 40), (40, 200, 60), (40, 70, 230))
    for c, (name, colour) in enumerate(zip(COLOUR_CLASSES, colours, strict=True)):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
            r = int(rng.integers(size // 8, size // 4))
            shape = (
                (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r,
                (abs(yy - cy) <= r) & (abs(xx - cx) <= r),
                (abs(yy - cy) <= r // 3) & (abs(xx - cx) <= r + 4),
            )[c]
            img = rng.integers(0, 40, (size, size, 3))
            img[shape] = colour
            Image.fromarray(img.astype(np.uint8)).save(folder / name / f"{i:03d}.png")
    return folder


def train_colour_models(folder: Path, out: Path, cache: Path, latent_dim: int = 2) -> dict[str, Path]:
    """A conv model of each kind, one epoch on `folder` through the real CLI, tiny widths (seconds)."""
    import os
    import subprocess
    import sys

    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VAE_EXPLORER_CACHE": str(cache)}
    paths = {}
    for kind in COLOUR_KINDS:
        path = out / f"{kind}-z{latent_dim}-colour.safetensors"
        cmd = [sys.executable, "-m", "vae_core.train", "--arch", "conv", "--model", kind]
        cmd += ["--dataset", f"folder:{folder}", "--image-size", "32", "--channels", "3"]
        cmd += ["--latent-dim", str(latent_dim), "--conv-channels", "4", "4", "8", "--hidden", "16"]
        cmd += ["--epochs", "1", "--batch-size", "32", "--device", "cpu", "--out", str(path)]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        paths[kind] = path
    return paths


def option_of(options, stem: str) -> int:
    """The index of the model picker's option for the file `stem` ("<group> — <stem> · <what>",
    ui/frame/picker.label)."""
    return next(i for i, o in enumerate(options) if f"— {stem} ·" in o)
