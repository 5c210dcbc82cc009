"""A zip of images (an upload) extracted safely into a new folder that `folder:PATH` can read.

    result = extract_zip("upload.zip", "/srv/data/uploads/abc123")
    result.folder, result.files, result.skipped     # [(name, reason)]: what was left out and why

Everything in the archive is hostile: member names that climb out of the target ("../x",
"/etc/x", "C:\\x", "a\\..\\..\\x"), links, device files, encrypted members, a member whose
header lies about its size, millions of members, a few kilobytes that inflate to gigabytes.
The rules:
- the archive itself is at most MAX_ARCHIVE_BYTES, with at most MAX_MEMBERS members;
- only image files (by suffix, as the folder reader takes them) are extracted, each at most
  vae_core.data.images.MAX_BYTES (the upload limit); directories, links, special files,
  encrypted members, hidden names and macOS's __MACOSX/ are skipped and named;
- a member's path is rebuilt from its components: absolute paths, drive letters, "..", ".",
  empty or over-long components, NUL bytes and more than MAX_DEPTH levels are refused, so the
  result is always inside the target;
- the bytes written are counted while they are written (a lying header cannot pass): at most
  MAX_EXTRACTED_BYTES in all, and at most MAX_RATIO times the archive's size (a zip bomb);
- extraction goes to a hidden temporary folder beside the target and is renamed to it at the
  end: the target appears whole or not at all. The target must not exist yet.
A single top-level folder holding everything is stripped (a zip of "cats/ dogs/" and a zip of
"mydata/cats/ mydata/dogs/" give the same folder). Refusals are one ArchiveRefused line.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .images import MAX_BYTES
from .scan import IMAGE_SUFFIXES, amount, shown

MAX_ARCHIVE_BYTES = 512 * 2**20  # the zip file
MAX_MEMBERS = 100_000  # entries in its directory
MAX_DIRECTORY_BYTES = 16 * 2**20  # its central directory (zipfile parses it whole, one object per entry)
MAX_EXTRACTED_BYTES = 4 * 2**30  # written in all
MAX_RATIO = 100  # extracted bytes per archive byte (images barely compress: a real upload is near 1)
MAX_DEPTH = 16  # folders in a member's path
MAX_COMPONENT_BYTES = 255  # one name, as file systems allow
COPY_CHUNK = 2**20


class ArchiveRefused(ValueError):
    """An archive we do not extract; the message says why, with the bound."""


@dataclass
class Extracted:
    folder: Path
    files: int = 0
    bytes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def extract_zip(source, target) -> Extracted:
    """Extract the images of the zip `source` (a path or a binary file object) into the new folder `target`."""
    target = Path(target)
    if os.path.lexists(target):
        raise ArchiveRefused(f"{shown(str(target))} exists already; extraction needs a new folder.")
    size = _archive_size(source)
    _check_directory(source)
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ArchiveRefused("This file is not a zip archive (or it is damaged).") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise ArchiveRefused(f"The archive has {len(members):,} entries; the limit is {MAX_MEMBERS:,}.")
        result = Extracted(target)
        chosen = _choose(members, result)
        declared = sum(m.file_size for m, _ in chosen)
        budget = min(MAX_EXTRACTED_BYTES, MAX_RATIO * max(size, 1))
        if declared > budget:
            raise ArchiveRefused(_too_big(declared, size))
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name[:50]}.", suffix=".extracting", dir=target.parent))
        try:
            for member, parts in _strip_common_folder(chosen):
                _extract_one(zf, member, work, parts, result, budget, size)
            os.rename(work, target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    return result


def _archive_size(source) -> int:
    try:
        if hasattr(source, "seek"):
            size = source.seek(0, os.SEEK_END)
            source.seek(0)
        else:
            st = os.stat(source)
            if not stat.S_ISREG(st.st_mode):
                raise ArchiveRefused(f"{shown(str(source))} is not a regular file.")
            size = st.st_size
    except OSError as e:
        raise ArchiveRefused(f"The archive cannot be read ({e.strerror or e}).") from None
    if size > MAX_ARCHIVE_BYTES:
        raise ArchiveRefused(f"The archive is {amount(size)}; the limit is {amount(MAX_ARCHIVE_BYTES)}.")
    return size


def _check_directory(source) -> None:
    """The end-of-directory record's entry count and directory size, before zipfile parses the
    directory into one object per entry (millions of tiny entries would be gigabytes of them)."""
    try:
        f = source if hasattr(source, "seek") else open(source, "rb")  # closed below
        try:
            end = zipfile._EndRecData(f)  # the record zipfile itself reads first
        finally:
            if f is source:
                f.seek(0)
            else:
                f.close()
    except OSError as e:
        raise ArchiveRefused(f"The archive cannot be read ({e.strerror or e}).") from None
    if not end:
        raise ArchiveRefused("This file is not a zip archive (or it is damaged).")
    entries, directory = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > MAX_MEMBERS or directory > MAX_DIRECTORY_BYTES:
        raise ArchiveRefused(
            f"The archive lists {entries:,} entries in a {directory / 2**20:,.1f} MB directory; the limits are "
            f"{MAX_MEMBERS:,} entries and {MAX_DIRECTORY_BYTES / 2**20:.0f} MB."
        )


def _choose(members, result: Extracted) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """The members to extract with their checked path components; the rest skipped with a reason."""
    chosen, seen = [], set()
    for m in members:
        name = m.filename
        if name.endswith(("/", "\\")):
            continue  # a directory entry: folders are made for the files inside them
        reason, parts = _path_problem(name)
        mode = m.external_attr >> 16
        if reason is None and stat.S_ISLNK(mode):
            reason = "a link"
        elif reason is None and stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: no Unix type recorded
            reason = "not a regular file"
        elif reason is None and m.flag_bits & 0x1:
            reason = "encrypted"
        elif reason is None and not parts[-1].lower().endswith(IMAGE_SUFFIXES):
            reason = "not an image"
        elif reason is None and m.file_size > MAX_BYTES:
            reason = f"{m.file_size / 2**20:.0f} MB, over the {MAX_BYTES / 2**20:.0f} MB limit"
        elif reason is None and "/".join(parts).lower() in seen:
            reason = "a second entry with this name"
        if reason is not None:
            result.skipped.append((shown(name), reason))
            continue
        seen.add("/".join(parts).lower())
        chosen.append((m, parts))
    return chosen


def _path_problem(name: str) -> tuple[str | None, tuple[str, ...]]:
    """(reason, ()) for a path that could leave the target or is unusable, else (None, components)."""
    if "\x00" in name:
        return "a NUL byte in its name", ()
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return "an absolute path", ()
    parts = tuple(p for p in PurePosixPath(text).parts)
    if not parts or any(p in ("", ".", "..") for p in parts) or ".." in text.split("/"):
        return "a path that leaves the folder", ()
    if len(parts) > MAX_DEPTH + 1:
        return f"nested deeper than {MAX_DEPTH} folders", ()
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES for p in parts):
        return "a name longer than 255 bytes", ()
    if parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
        return "hidden", ()
    return None, parts


def _strip_common_folder(chosen):
    firsts = {parts[0] for _, parts in chosen}
    if len(firsts) == 1 and all(len(parts) > 1 for _, parts in chosen):
        return [(m, parts[1:]) for m, parts in chosen]
    return chosen


def _extract_one(zf, member, work: Path, parts: tuple[str, ...], result: Extracted, budget: int, size: int) -> None:
    dest = work.joinpath(*parts)
    dest.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with zf.open(member) as src, open(dest, "xb") as out:  # exclusive: never through an existing name
            while chunk := src.read(COPY_CHUNK):
                written += len(chunk)
                if written > MAX_BYTES or result.bytes + written > budget:
                    raise ArchiveRefused(_too_big(result.bytes + written, size, lying=True))
                out.write(chunk)
    except ArchiveRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
        dest.unlink(missing_ok=True)  # a damaged or unsupported member: left out, the others kept
        detail = "damaged" if isinstance(e, (zipfile.BadZipFile, EOFError)) else f"unreadable ({type(e).__name__})"
        result.skipped.append((shown(member.filename), detail))
        return
    os.chmod(dest, 0o644)
    result.files += 1
    result.bytes += written


def _too_big(n: int, size: int, lying: bool = False) -> str:
    what = "inflates to more than" if lying else "would extract to"
    return (
        f"The archive {what} {n / 2**20:,.0f} MB; the limits are {MAX_EXTRACTED_BYTES / 2**30:.0f} GB in all and "
        f"{MAX_RATIO}x the archive's {size / 2**20:,.1f} MB (a zip bomb), {MAX_BYTES / 2**20:.0f} MB per image."
    )
