"""bench/browser_results.json -> the markdown table of `python -m bench.browser`, with the issue's budgets."""

from __future__ import annotations

import json
import sys


def _ms(d, k="median"):
    return f"{d[k]:.1f} ms" if d and d.get("n") else "—"


def _both(d):
    """A latency pair: median to our drawing, then median / p95 to the next frame."""
    d = d or {}
    return f"{_ms(d.get('drawn'))} drawn; {_ms(d.get('frame'))} / {_ms(d.get('frame'), 'p95')} to the next frame"


def _kb(d):
    """Per action: websocket kB (+ HTTP kB when the browser fetched files, e.g. a hovered chunk)."""
    if not d:
        return "—"
    parts = []
    for name, b in d.items():
        http = f" + {b['http'] / 1000:,.1f} HTTP" if b["http"] else ""
        parts.append(f"{name} {b['ws'] / 1000:,.1f}{http} kB")
    return "; ".join(parts)


def table(r: dict) -> str:
    a, lv = r.get("current_app", {}), r.get("live", {})
    sl = a.get("slider_key_ms")
    big = (lv.get("big_reload_to_drawn_s", 0), lv.get("big_component_to_drawn_ms", 0) / 1000)
    rows = [
        (
            "`streamlit run` → first map drawn",
            f"{a.get('startup_to_map_s', 0):.1f} s (server up after {a.get('server_healthy_s', 0):.1f} s)",
            f"{lv.get('startup_to_map_s', 0):.1f} s (demo app, empty asset folder); "
            f"{lv.get('startup_to_map_warm_assets_s', 0):.1f} s (assets on disk)",
            "≤ 5 s",
        ),
        (
            "bytes received per map rerun (websocket + HTTP)",
            _kb(a.get("map_rerun")),
            _kb(lv.get("map_rerun")),
            "≤ 200 kB",
        ),
        ("slider key press → new image", f"{_ms(sl)} / p95 {_ms(sl, 'p95')}", _both(lv.get("slider_ms")), "≤ 30 ms"),
        ("pointer move → decoded image + tooltip, 4,500 points", "—", _both(lv.get("pointer_ms")), "≤ 30 ms"),
        (
            "one decode in JS, vae-z2 / vae-z16",
            "—",
            f"{lv.get('decode_ms_z2', 0):.3f} / {lv.get('decode_ms_z16', 0):.3f} ms",
            "",
        ),
        ("15×15 manifold grid decoded in the browser", "—", f"{lv.get('grid_15x15_ms', 0):.0f} ms", ""),
        ("60k map: reload, assets cached → drawn (page / component)", "—", f"{big[0]:.2f} s / {big[1]:.2f} s", "≤ 3 s"),
        ("60k map: pointer move → decoded image + tooltip", "—", _both(lv.get("big_pointer_ms")), "≤ 30 ms"),
        (
            "60k map: full redraw (pan, zoom)",
            "—",
            f"{_ms(lv.get('big_redraw_ms'))} / p95 {_ms(lv.get('big_redraw_ms'), 'p95')}",
            "",
        ),
        ("60k map: first hover in a chunk not yet fetched", "—", _ms(lv.get("big_first_hover_in_chunk_ms")), ""),
    ]
    lines = ["| measurement | current app | live map | target |", "|---|---|---|---|"]
    return "\n".join(lines + [f"| {' | '.join(r)} |" for r in rows])


if __name__ == "__main__":
    print(table(json.load(open(sys.argv[1] if len(sys.argv) > 1 else "bench/browser_results.json"))))
