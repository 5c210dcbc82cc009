"""The README's pictures, from the browser tests' screenshots:

    python -m pytest -q tests/browser/test_browser.py -k every_page   # writes test-artifacts/screenshots/
    python -m pytest -q tests/browser/test_browser_elbo.py            # the ELBO page with its report
    python -m scripts.docs_screenshots                                 # copies the chosen ones to docs/

The browser test opens every page at 1400 and 800 px wide and hovers a point on the Latent map
(the hero: the live map with a digit under the pointer); this script takes those screenshots,
crops the empty space below each page, and writes them to docs/ at one fixed width (palette
PNGs, so the repository stays small). `--check` only says which screenshots are missing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ui.frame.pages import VIEWS  # noqa: E402

SHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS = ROOT / "docs"
WIDTH = 900  # px of every picture in docs/
MAX_ASPECT = 1.6  # a page taller than this (height / width) is cut: the README shows its top


def slug(title: str) -> str:
    return title.lower().replace(" ", "_").replace("β", "beta")


def chosen() -> dict[str, Path]:
    """{docs file name: screenshot}: the hero, then each page at 1400 px, as the browser test names them."""
    out = {"hero-latent-map.png": SHOTS / "hero-latent-map.png"}
    for i, (_, title, _) in enumerate(VIEWS):
        out[f"page-{slug(title)}.png"] = SHOTS / f"{i + 1}-{title.lower().replace(' ', '_')}.png"
    # The ELBO page computes its report in the background: its own browser test's picture shows it done.
    out["page-elbo.png"] = SHOTS / "elbo-vae-z2-1400.png"
    return out


def content_height(img: Image.Image, background: int = 250) -> int:
    """The last row holding anything but the page's white background (plus a margin)."""
    a = np.asarray(img.convert("L"))
    rows = np.flatnonzero((a < background).sum(1) > 2)
    return min(img.height, int(rows[-1]) + 24) if len(rows) else img.height


def fit(img: Image.Image, crop: bool = True) -> Image.Image:
    if crop:
        img = img.crop((0, 0, img.width, min(content_height(img), int(img.width * MAX_ASPECT))))
    h = round(img.height * WIDTH / img.width)
    return img.convert("RGB").resize((WIDTH, h), Image.Resampling.LANCZOS).quantize(256, dither=Image.Dither.NONE)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only list missing screenshots")
    args = p.parse_args(argv)
    missing = [str(src.relative_to(ROOT)) for src in chosen().values() if not src.is_file()]
    if missing:
        print("missing (run the browser test first): " + ", ".join(missing), file=sys.stderr)
        return 1
    if args.check:
        return 0
    DOCS.mkdir(exist_ok=True)
    for name, src in chosen().items():
        with Image.open(src) as img:
            out = fit(img, crop=not name.startswith("hero"))
        out.save(DOCS / name, optimize=True)
        print(f"docs/{name}: {out.width}x{out.height} from {src.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
