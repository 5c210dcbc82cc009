"""Image folders for the tests, made on the spot: tidy class folders, and one with every kind of bad file."""

import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {"red": (220, 40, 40), "blue": (40, 40, 220)}


def picture(i: int, colour, w: int = 48, h: int = 40) -> np.ndarray:
    """A coloured square on black that moves with i (so images differ)."""
    a = np.zeros((h, w, 3), np.uint8)
    a[8 + i % 6 : 24 + i % 6, 6 + 2 * (i % 8) : 22 + 2 * (i % 8)] = colour
    return a


def class_folder(root: Path, n: int = 10, w: int = 48, h: int = 40, grey: bool = False, colours=COLOURS) -> Path:
    """root/<class>/<i>.png for each colour (grey: the pictures saved as 8-bit grey)."""
    for name, colour in colours.items():
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img = Image.fromarray(picture(i, colour, w, h))
            (img.convert("L") if grey else img).save(d / f"{i:03d}.png")
    return root


def _png_header_only(w: int, h: int) -> bytes:
    def chunk(t, data):
        return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 100))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


# file name -> the reason the folder reader gives for skipping it
BAD_FILES = {
    "red/notes.txt": "not an image",
    "red/fake.png": "not an image",
    "red/truncated.png": "truncated",
    "red/tiny.png": "too small",
    "red/bomb.png": "too large",
    "red/huge.png": "over the 10 MB limit",
    "red/.hidden.png": "hidden",
    ".DS_Store": "hidden",
    "red/escape.png": "link leaves the folder",
    "outside": "link leaves the folder",
    "red/dangling.png": "unreadable",
    "red/fifo.png": "not a regular file",
    "red/empty.png": "empty",
}
NOT_UTF8 = b"red/caf\xe9.png"  # skipped: "name is not UTF-8"
# the good files of odd kinds, each decoded: name -> what it is
ODD_GOOD = ("photo.jpg", "pic.webp", "palette.png", "cmyk.jpg", "sixteen.png", "anim.gif", "bitmap.bmp", "alpha.png")


def hostile_folder(root: Path, n: int = 8) -> Path:
    """Two classes of n good pictures, the odd good kinds in red/, every bad file of BAD_FILES,
    a non-UTF-8 name and an empty class folder."""
    class_folder(root, n)
    red, a = root / "red", picture(3, COLOURS["red"])
    Image.fromarray(a).save(red / "photo.jpg", quality=90)
    Image.fromarray(a).save(red / "pic.webp")
    Image.fromarray(a).convert("P").save(red / "palette.png")
    Image.fromarray(a).convert("CMYK").save(red / "cmyk.jpg")
    Image.fromarray((np.arange(40 * 48).reshape(40, 48) * 30).astype(np.uint16)).save(red / "sixteen.png")
    Image.fromarray(a).save(red / "anim.gif", save_all=True, append_images=[Image.fromarray(255 - a)])
    Image.fromarray(a).save(red / "bitmap.bmp")
    Image.fromarray(np.dstack([a, np.full(a.shape[:2], 128, np.uint8)])).save(red / "alpha.png")
    good = (red / "000.png").read_bytes()
    (red / "notes.txt").write_text("not a picture")
    (red / "fake.png").write_text("not a png either")
    (red / "truncated.png").write_bytes(good[: len(good) // 2])
    Image.new("L", (3, 3)).save(red / "tiny.png")
    (red / "bomb.png").write_bytes(_png_header_only(60_000, 60_000))
    with open(red / "huge.png", "wb") as f:
        f.truncate(11 * 2**20)
    (red / ".hidden.png").write_bytes(good)
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    os.symlink("/etc/hostname", red / "escape.png")
    os.symlink("/", root / "outside")
    os.symlink(red / "no-such-file.png", red / "dangling.png")
    os.mkfifo(red / "fifo.png")
    (red / "empty.png").write_bytes(b"")
    with open(os.fsencode(str(root)) + b"/" + NOT_UTF8, "wb") as f:
        f.write(good)
    (root / "empty_class").mkdir()
    return root
