"""The layering in .importlinter holds, and the check really fails on an upward import or a cycle."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

LINT = [str(Path(sys.executable).parent / "lint-imports")]  # import-linter's command, installed beside this Python


def lint(folder):
    """lint-imports on a project folder, with its own .importlinter; (exit code, report)."""
    env = {"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([*LINT, "--no-cache"], cwd=folder, capture_output=True, text=True, env=env, timeout=300)
    return r.returncode, r.stdout + r.stderr


def test_the_project_keeps_its_layers_and_has_no_cycles():
    code, report = lint(ROOT)
    assert code == 0, report
    assert "0 broken" in report


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """The engine and the app's Python, copied: a place to break the rules on purpose."""
    folder = tmp_path_factory.mktemp("project")
    for name in ("vae_core", "ui"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.js", "*.png"))
    shutil.copy(ROOT / ".importlinter", folder)
    return folder


@pytest.mark.parametrize(
    "module, line, contract",
    [
        ("vae_core/model/losses.py", "from vae_core.cli import common", "rooms import downwards"),
        ("vae_core/training/film.py", "from vae_core.analysis import metrics", "rooms import downwards"),
        ("vae_core/data/augment.py", "import streamlit", "never imports the app"),
        ("vae_core/model/losses.py", "from vae_core.model import posterior", "No import cycles"),
    ],
)
def test_an_upward_import_or_a_cycle_breaks_a_contract(copy, module, line, contract):
    path = copy / module
    original = path.read_text()
    try:
        path.write_text(original + f"\n\ndef _later():\n    {line}\n")  # even a function-local import counts
        code, report = lint(copy)
    finally:
        path.write_text(original)
    assert code != 0
    broken = [row for row in report.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), report
