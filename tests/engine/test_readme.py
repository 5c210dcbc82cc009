"""The README's usage example runs as written (with its two file names pointed at a temp dir)."""

import re

import numpy as np
from PIL import Image
from support import ROOT


def test_readme_python_example_runs(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    from vae_core.data import load_dataset

    digit = load_dataset("mnist5k", "val").images[0, 0].numpy()
    Image.fromarray((255 - digit * 255).astype(np.uint8)).resize((200, 200)).convert("RGB").save(
        tmp_path / "my_digit.jpg"
    )
    code = code.replace('"my_digit.jpg"', repr(str(tmp_path / "my_digit.jpg")))
    code = code.replace('"copy.safetensors"', repr(str(tmp_path / "copy.safetensors")))
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["x_hat"].shape == (8, 1, 28, 28)
    assert scope["digit"].shape == (1, 28, 28)
    assert (tmp_path / "copy.safetensors").exists()


def test_readme_names_the_two_commands_and_ci_runs_the_test_one():
    text = (ROOT / "README.md").read_text()
    assert "make run" in text and "make test" in text
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_shapes_tables_are_the_scripts_own():
    """The shapes models' tables in the README are what scripts/shapes_results.py writes from its
    measured file (bench/shapes_results.json), not retyped."""
    import json

    from scripts.shapes_results import tables

    rows = json.loads((ROOT / "bench" / "shapes_results.json").read_text())
    assert tables(rows) in (ROOT / "README.md").read_text()
