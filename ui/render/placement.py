"""Labels that do not collide: a greedy placement of text boxes beside points (no Streamlit, no plotly).

Charts place their labels in pixels computed for the narrowest plot they will be drawn in: a
wider plot only moves points apart horizontally, so a placement free of overlaps at that width
stays free of them at any larger one (the height is fixed).
"""

from __future__ import annotations

from dataclasses import dataclass

CHAR_PX, LINE_PX = 6.6, 15.0  # an 11-px sans-serif label: width per character (generous) and line height


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlap(self, other: Box) -> float:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def inside(self, w: float, h: float) -> bool:
        return self.x0 >= 0 and self.y0 >= 0 and self.x1 <= w and self.y1 <= h


def text_box(cx: float, cy: float, text: str) -> Box:
    """The box of `text` centred at (cx, cy)."""
    w, h = CHAR_PX * len(text) + 4, LINE_PX
    return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def point_box(x: float, y: float, r: float) -> Box:
    return Box(x - r, y - r, x + r, y + r)


def segment_boxes(a: tuple[float, float], b: tuple[float, float], r: float = 1.5, step: float = 4.0) -> list[Box]:
    """A line from a to b as small boxes every `step` px (labels must not sit on a trace's line)."""
    (x0, y0), (x1, y1) = a, b
    n = max(1, int(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 / step))
    return [point_box(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n, r) for k in range(n + 1)]


# Plotly's text positions around a marker, as the offset of the label's centre (in label units).
POSITIONS = {
    "top center": (0, -1),
    "bottom center": (0, 1),
    "middle right": (1, 0),
    "middle left": (-1, 0),
    "top right": (1, -1),
    "top left": (-1, -1),
    "bottom right": (1, 1),
    "bottom left": (-1, 1),
}


def place(anchors, texts, obstacles: list[Box], size: tuple[float, float], r: float) -> list[tuple[str, Box]]:
    """For each anchor (x, y) in px with its text, the plotly position and box that overlap the
    obstacles and the labels placed before it least (none when possible), inside the plot `size`."""
    taken, out = list(obstacles), []
    for (x, y), text in zip(anchors, texts, strict=True):
        w, h = CHAR_PX * len(text) + 4, LINE_PX
        best = None
        for name, (dx, dy) in POSITIONS.items():
            cx, cy = x + dx * (r + 3 + w / 2), y + dy * (r + 2 + h / 2)
            box = text_box(cx, cy, text)
            cost = sum(box.overlap(o) for o in taken) + (0 if box.inside(*size) else 1e6)
            if best is None or cost < best[0]:
                best = (cost, name, box)
            if cost == 0:
                break
        out.append((best[1], best[2]))
        taken.append(best[2])
    return out


def free_spot(candidates, text: str, taken: list[Box], size: tuple[float, float]) -> Box | None:
    """The first candidate centre (x, y) whose text box overlaps nothing taken and lies inside."""
    for cx, cy in candidates:
        box = text_box(cx, cy, text)
        if box.inside(*size) and not any(box.overlap(o) for o in taken):
            return box
    return None
