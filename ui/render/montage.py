"""A montage that wraps to its column: one small PNG per image in a flex box (HTML), so the rows
reflow with the page's width instead of one wide picture overflowing a narrow column.
No Streamlit, no torch."""

from __future__ import annotations

import base64
import html
import io

from PIL import Image

from ui.render.figures import pixels


def png_data_uri(image) -> str:
    """One image ([C, H, W] float or uint8, as figures.pixels) as a data: URI of a PNG."""
    a = pixels(image[None] if getattr(image, "ndim", 0) in (2, 3) else image)[0]
    buf = io.BytesIO()
    Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a).save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def montage_html(images, titles: list[str], scale: int = 2) -> str:
    """Images [N, H, W] or [N, C, H, W] as tiles `scale` times their size, wrapping to the width
    they are given; each tile's title (shown on hover) names it."""
    a = pixels(images)
    n, h, w, _ = a.shape
    if len(titles) != n:
        raise ValueError(f"{len(titles)} titles for {n} images.")
    style = f"width:{w * scale}px;height:{h * scale}px;image-rendering:pixelated;display:block"
    tiles = "".join(
        f'<img src="{png_data_uri(a[k].transpose(2, 0, 1))}" style="{style}" alt="{html.escape(t)}" '
        f'title="{html.escape(t)}">'
        for k, t in enumerate(titles)
    )
    box = "display:flex;flex-wrap:wrap;gap:2px;padding:2px;background:#595959;border-radius:6px;max-width:100%"
    return f'<div data-testid="montage" style="{box}">{tiles}</div>'
