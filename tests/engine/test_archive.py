"""A zip upload extracted safely: hostile member names, links, bombs, lying headers, too much of anything."""

import io
import os
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from vae_core.data import archive, load_dataset
from vae_core.data.archive import ArchiveRefused, extract_zip


def png(i: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), i * 20 % 256, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def make_zip(members: dict, compression=zipfile.ZIP_STORED) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    buf.seek(0)
    return buf


def test_a_clean_zip_becomes_a_folder_the_reader_opens(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    members = {f"mydata/{c}/{i}.png": png(i) for c in ("cats", "dogs") for i in range(10)}
    members["mydata/readme.txt"] = b"hello"
    result = extract_zip(make_zip(members), tmp_path / "up")
    assert result.files == 20 and result.skipped == [("mydata/readme.txt", "not an image")]
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["cats", "dogs"]  # the common folder stripped
    assert load_dataset(f"folder:{tmp_path / 'up'}", "train").classes == ("cats", "dogs")
    mode = (tmp_path / "up" / "cats" / "0.png").stat().st_mode
    assert stat.S_IMODE(mode) == 0o644


def symlink_member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    "name, reason",
    [
        ("../evil.png", "leaves the folder"),
        ("a/../../evil.png", "leaves the folder"),
        ("a\\..\\..\\evil.png", "leaves the folder"),
        ("/tmp/evil.png", "absolute path"),
        ("C:\\evil.png", "absolute path"),
        ("C:/evil.png", "absolute path"),
        ("__MACOSX/a/._b.png", "hidden"),
        ("a/.b.png", "hidden"),
        ("/".join(["d"] * 20) + "/x.png", "nested deeper"),
        ("a/" + "n" * 300 + ".png", "longer than 255 bytes"),
        ("a/script.sh", "not an image"),
    ],
)
def test_hostile_member_names_are_skipped_and_nothing_leaves_the_target(tmp_path, name, reason):
    target = tmp_path / "box" / "up"
    data = make_zip({"ok/1.png": png(1), "ok/2.png": png(2)})
    # zipfile normalises some names on write; put the raw name in the archive's directory ourselves
    buf = io.BytesIO()
    with zipfile.ZipFile(data) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        info = zipfile.ZipInfo("placeholder.png")
        info.filename = name
        dst.writestr(info, png(3))
    buf.seek(0)
    result = extract_zip(buf, target)
    assert result.files == 2 and len(result.skipped) == 1 and reason in result.skipped[0][1], result.skipped
    everything = [p for p in tmp_path.rglob("*")]
    assert all(str(p).startswith(str(target)) or p == target.parent for p in everything), everything


def test_links_special_files_encrypted_and_duplicate_members_are_skipped(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a/1.png", png(1))
        z.writestr(symlink_member("a/link.png"), "/etc/passwd")
        fifo = zipfile.ZipInfo("a/fifo.png")
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        z.writestr(fifo, png(2))
        z.writestr("a/1.PNG", png(4))  # the same name on a case-insensitive disk
    buf.seek(0)
    result = extract_zip(buf, tmp_path / "up")
    reasons = dict(result.skipped)
    assert result.files == 1 and reasons == {
        "a/link.png": "a link",
        "a/fifo.png": "not a regular file",
        "a/1.PNG": "a second entry with this name",
    }
    assert not (tmp_path / "up" / "link.png").exists()


def patch_member(raw: bytearray, name: bytes, local_offset: int, central_offset: int, value: bytes) -> None:
    """Overwrite a field of `name`'s local header and central directory entry (zipfile would not write it)."""
    for sig, offset, name_at in ((b"PK\x03\x04", local_offset, 30), (b"PK\x01\x02", central_offset, 46)):
        start = 0
        while (i := raw.find(sig, start)) >= 0:
            if raw[i + name_at : i + name_at + len(name)] == name:
                raw[i + offset : i + offset + len(value)] = value
            start = i + 4


def test_an_encrypted_member_is_skipped(tmp_path):
    raw = bytearray(make_zip({"a.png": png(1), "b.png": png(2)}).getvalue())
    patch_member(raw, b"b.png", 6, 8, (1).to_bytes(2, "little"))  # general purpose flag bit 0: encrypted
    result = extract_zip(io.BytesIO(bytes(raw)), tmp_path / "up")
    assert result.files == 1 and dict(result.skipped) == {"b.png": "encrypted"}


def test_a_zip_bomb_is_refused_before_writing(tmp_path):
    bomb = make_zip({f"{i}.png": b"\0" * (9 * 2**20) for i in range(3)}, zipfile.ZIP_DEFLATED)  # 27 MB in ~30 kB
    with pytest.raises(ArchiveRefused, match="zip bomb"):
        extract_zip(bomb, tmp_path / "up")
    assert list(tmp_path.iterdir()) == []  # no target, no temporary folder


def test_a_header_that_lies_about_the_size_is_caught_while_writing(tmp_path, monkeypatch):
    """The directory says 10 bytes; the data inflate to megabytes: counted as written, refused, all removed."""
    big = make_zip({"a.png": png(1), "b.png": b"\0" * (4 * 2**20)}, zipfile.ZIP_DEFLATED)
    raw = bytearray(big.getvalue())
    monkeypatch.setattr(archive, "MAX_RATIO", 10**6)  # the declared sizes pass; only the real bytes tell
    patch_member(raw, b"b.png", 22, 24, (10).to_bytes(4, "little"))  # its uncompressed size, 10 bytes
    result = extract_zip(io.BytesIO(bytes(raw)), tmp_path / "up")
    assert result.files == 1 and dict(result.skipped)["b.png"] == "damaged"
    assert sorted(os.listdir(tmp_path / "up")) == ["a.png"]


def test_too_many_members_or_bytes_or_not_a_zip(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_MEMBERS", 5)
    with pytest.raises(ArchiveRefused, match="entries .* the limits are 5 entries"):
        extract_zip(make_zip({f"{i}.png": png(i) for i in range(6)}), tmp_path / "a")
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 100)
    with pytest.raises(ArchiveRefused, match="bytes; the limit is 100 bytes"):
        extract_zip(make_zip({"a.png": png(1)}), tmp_path / "b")
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 2**30)
    with pytest.raises(ArchiveRefused, match="not a zip archive"):
        extract_zip(io.BytesIO(b"PK\x03\x04 but nothing else"), tmp_path / "c")
    (tmp_path / "d").mkdir()
    with pytest.raises(ArchiveRefused, match="exists already"):
        extract_zip(make_zip({"a.png": png(1)}), tmp_path / "d")
    assert sorted(os.listdir(tmp_path)) == ["d"]
