"""What the look tests (test_look_*.py) read from a page: its main column's text, what overflows
it, labels that are cut, the live map's and plotly's drawings. Reads only; every wait is on a state."""

from __future__ import annotations

import re

from driver import LIVEMAP, WAIT_MS, settle

MAIN = '[data-testid="stMainBlockContainer"]'

# Everything in the main column that sticks out of it (a picture wider than its column scrolls the page sideways).
OVERFLOW = """(sel) => {
  const main = document.querySelector(sel), r = main.getBoundingClientRect();
  const right = r.right - parseFloat(getComputedStyle(main).paddingRight) + 1;
  const out = [];
  for (const e of main.querySelectorAll('img, canvas, iframe, table, [data-testid=stHorizontalBlock]')) {
    const b = e.getBoundingClientRect();
    if (b.width > 0 && b.right > right) out.push(`${e.tagName} ends at ${Math.round(b.right)} > ${Math.round(right)}`);
  }
  const page = document.scrollingElement.scrollWidth;
  if (page > innerWidth + 1) out.push(`page ${page} > ${innerWidth}`);
  return out;
}"""

# Widget labels whose text is cut (an ellipsis: "Pos…").
CUT_LABELS = """(sel) => Array.from(document.querySelectorAll(
    `${sel} [data-testid=stWidgetLabel] [data-testid=stMarkdownContainer]`))
  .filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""


def main_text(pg) -> str:
    return pg.locator(MAIN).inner_text()


def overflow(pg) -> list[str]:
    return pg.evaluate(OVERFLOW, MAIN)


def cut_labels(pg) -> list[str]:
    return pg.evaluate(CUT_LABELS, MAIN)


def width(pg, width: int) -> None:
    """The window's width (the height stays tall enough for a whole page in one screenshot)."""
    pg.set_viewport_size({"width": width, "height": 1800})
    settle(pg)


def frames(pg) -> list:
    """The drawn live maps' frames, in page order."""
    from driver import wait_map

    return [wait_map(pg, k) for k in range(pg.locator(LIVEMAP).count())]


def boxes_overlap(boxes: list[dict]) -> list[tuple[int, int]]:
    """Pairs of {x, y, width, height} boxes that overlap by more than a pixel each way."""
    out = []
    for i, a in enumerate(boxes):
        for j, b in enumerate(boxes[i + 1 :], i + 1):
            w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
            h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
            if w > 1 and h > 1:
                out.append((i, j))
    return out


def plot_texts(pg, nth: int = 0) -> list[dict]:
    """The nth plotly chart's point labels and annotations: [{text, x, y, width, height}]."""
    return pg.evaluate(
        """(n) => { const g = document.querySelectorAll('.js-plotly-plot')[n];
          return Array.from(g.querySelectorAll('.textpoint text, .annotation-text'))
            .map(t => { const b = t.getBoundingClientRect();
              return {text: t.textContent, x: b.x, y: b.y, width: b.width, height: b.height}; })
            .filter(b => b.width > 0); }""",
        nth,
    )


def alert_text(pg, pattern: str) -> str:
    """The text of the first alert (info, warning) whose text matches `pattern`, once it is there."""
    box = pg.locator('[data-testid="stAlert"]').filter(has_text=re.compile(pattern))
    box.first.wait_for(timeout=WAIT_MS)
    return box.first.inner_text()


def drawn(pg) -> None:
    """Wait until every visible live map and plotly chart on the page has drawn."""
    from driver import wait_map

    visible = pg.locator(f"{LIVEMAP} >> visible=true").count()
    for k in range(pg.locator(LIVEMAP).count()):
        if k < visible:
            wait_map(pg, k)
    charts = pg.locator(".js-plotly-plot").count()
    if charts:
        from driver import plot_ready

        plot_ready(pg, charts)


def hover_a_point(pg, name: str) -> None:
    """Hover a point of the first live map until its real image shows, and save the map as `name`."""
    import numpy as np
    from driver import ARTIFACTS, isolated, map_to_page, wait_map

    frame = wait_map(pg)
    xy = np.array(frame.evaluate("() => Array.from(livemap.widget.xy)"), np.float64).reshape(-1, 2)
    px = map_to_page(pg, frame, xy)
    i = isolated(px)
    pg.mouse.move(float(px[i, 0]) - 30, float(px[i, 1]))
    pg.mouse.move(float(px[i, 0]), float(px[i, 1]), steps=6)
    frame.wait_for_selector("[data-testid=lm-tip][data-loaded='1']", timeout=WAIT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.locator(LIVEMAP).first.screenshot(path=str(ARTIFACTS / f"{name}.png"))
