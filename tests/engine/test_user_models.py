"""Renaming and deleting a user's own models: their folder only, never a replace, hostile names refused."""

import os

import pytest

from vae_core.io import registry
from vae_core.io.user_models import MAX_STEM, ModelFileError, check_stem, delete_model, rename_model

BLOB = b"not read: only names and places matter here"


@pytest.fixture
def folders(tmp_path):
    mine, shipped, outside = tmp_path / "user_models", tmp_path / "checkpoints", tmp_path / "elsewhere"
    for d in (mine, shipped, outside):
        d.mkdir()
    for d, name in ((mine, "a"), (mine, "b"), (shipped, "vae-z2"), (outside, "secret")):
        (d / f"{name}.safetensors").write_bytes(BLOB + name.encode())
    return mine, shipped, outside


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_rename_moves_the_bytes_to_the_new_name_and_leaves_nothing_behind(folders):
    mine, _, _ = folders
    new = rename_model(mine, mine / "a.safetensors", "  my-first_model.v2  ")
    assert new == (mine / "my-first_model.v2.safetensors").resolve()
    assert new.read_bytes() == BLOB + b"a"
    assert names(mine) == ["b.safetensors", "my-first_model.v2.safetensors"]
    assert rename_model(mine, new, "my-first_model.v2.safetensors") == new  # the suffix typed too: same name


def test_a_rename_never_replaces_a_file(folders):
    mine, _, _ = folders
    with pytest.raises(ModelFileError, match="already exists"):
        rename_model(mine, mine / "a.safetensors", "b")
    assert (mine / "b.safetensors").read_bytes() == BLOB + b"b" and (mine / "a.safetensors").exists()


def test_a_name_a_job_will_write_is_refused(folders):
    mine, _, _ = folders
    with pytest.raises(ModelFileError, match="training job"):
        rename_model(mine, mine / "a.safetensors", "later", claimed=[mine / "later.safetensors"])
    assert names(mine) == ["a.safetensors", "b.safetensors"]


HOSTILE = [
    "",
    "   ",
    ".hidden",
    "..",
    "../elsewhere/secret",
    "a/b",
    "a\\b",
    "a\x00b",
    "new\nline",
    "-dash-first",
    "spaces inside",
    "ümlaut",
    "名前",
    "x" * (MAX_STEM + 1),
    "$(rm -rf ~)",
    "<script>",
    "a*b",
    None,
    42,
]


@pytest.mark.parametrize("name", HOSTILE, ids=repr)
def test_a_hostile_new_name_is_refused_with_one_line_and_nothing_changes(folders, name):
    mine, shipped, outside = folders
    before = [names(d) for d in folders]
    with pytest.raises(ModelFileError) as e:
        rename_model(mine, mine / "a.safetensors", name)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300
    assert [names(d) for d in folders] == before


def test_the_longest_allowed_name_is_accepted(folders):
    mine, _, _ = folders
    assert check_stem("x" * MAX_STEM) == "x" * MAX_STEM
    assert rename_model(mine, mine / "a.safetensors", "x" * MAX_STEM).exists()


def test_files_outside_the_folder_links_and_other_kinds_are_never_touched(folders):
    mine, shipped, outside = folders
    os.symlink(outside / "secret.safetensors", mine / "link.safetensors")
    (mine / "notes.txt").write_text("x")
    (mine / "sub").mkdir()
    (mine / "sub" / "c.safetensors").write_bytes(BLOB)
    targets = [
        shipped / "vae-z2.safetensors",
        outside / "secret.safetensors",
        mine / "link.safetensors",
        mine / "notes.txt",
        mine / "sub" / "c.safetensors",
        mine / ".." / "elsewhere" / "secret.safetensors",
        mine / "missing.safetensors",
    ]
    for target in targets:
        with pytest.raises(ModelFileError):
            rename_model(mine, target, "stolen")
        with pytest.raises(ModelFileError):
            delete_model(mine, target)
    assert (outside / "secret.safetensors").read_bytes() == BLOB + b"secret"
    assert (shipped / "vae-z2.safetensors").exists() and (mine / "sub" / "c.safetensors").exists()
    assert not (mine / "stolen.safetensors").exists()


def test_a_delete_removes_only_that_file_and_the_registry_stops_listing_it(folders):
    mine, shipped, _ = folders
    assert delete_model(mine, mine / "a.safetensors") == "a.safetensors"
    assert names(mine) == ["b.safetensors"]
    listed = [e.path.name for e in registry.scan(shipped, mine)]
    assert "a.safetensors" not in listed and "b.safetensors" in listed
    with pytest.raises(ModelFileError):
        delete_model(mine, mine / "a.safetensors")  # gone already: one line, not a traceback
