"""The live map as a Streamlit component: one call per map, slider panel or manifold grid.

Why components v1 (an iframe served from a folder) and not v2 (st.components.v2, in the page):
- v1's `declare_component(name, path=FOLDER)` is the public way to serve a folder's files at
  /component/<name>/<file>. We use it twice: for the frontend (ui/livemap/frontend) and for the
  caller's asset cache folder, so assets are plain same-origin HTTP files the browser fetches
  once and keeps (Cache API + memory). v2 serves files only from an installed package's
  declared asset_dir, so a run-time cache folder has no route there.
- v2 ships its inline JS and HTML inside the element's message, and that message changes with
  every argument change: each rerun would carry the ~80 kB of JavaScript again. v1 sends only
  the JSON arguments (a few hundred bytes here); the JS is fetched once per iframe.
- With a `key`, v1 keeps the same iframe across reruns (its identity is the key), so the
  decoder, images and view survive reruns; the iframe also isolates our CSS and JavaScript.
Values come back through setComponentValue (one JSON value per component; every event we send
is small: a selection bitmask, slider positions on release).

Fallback: the browser reports `unsupported` (missing canvas, DecompressionStream, ...) or an
asset error, or never answers the ready handshake within `timeout_s`; then the event's
`fallback` is True and the page draws `ui.figures.latent_scatter` instead.

A decoder the browser cannot run (onnxruntime-web cannot start: no WebAssembly; or a graph it
refuses) is reported as `decoder_error`. The map still draws (hover shows the real images, no
decoding under the pointer) and says why in `MapEvent.decoder_error`; sliders and grid fall back
(the page decodes on the server). The session remembers it: later calls do not send a decoder of
that kind (or that graph) again, so the page goes straight to its server path with one note.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.components.v1 import declare_component

from . import route
from .assets import AssetError, AssetStore, DecoderAsset, Film, ImageSet, PointSet, ValueSet
from .codec import Lift, cell, decode_selection, encode_selection, finite_code, trigger
from .decoder_failures import _line, _record_decoder_error, decoder_note, decoder_unavailable

FRONTEND = Path(__file__).resolve().parent / "frontend"
TIMEOUT_S = 20.0  # the handshake arrives within a second normally; a busy 2-core box needs slack


@dataclass
class MapEvent:
    """What the map reports after this run."""

    selection: list[int] = field(default_factory=list)  # selected point indices, [] when none
    trigger: str | None = None  # what made it: click, box, lasso, clear
    ready: bool = False  # the browser drew this component (it answered the handshake)
    fallback: bool = False  # draw the plotly map instead; `reason` says why
    reason: str = ""  # one line for the page (empty unless fallback)
    decoder_error: str = ""  # why the browser cannot decode under the pointer (the map still works)
    shown: bool = False  # a map is on the page: this one drew (ready), or a plotly map stands in


@dataclass
class SliderEvent:
    z: np.ndarray | None = None  # the sliders' code [D] at the last release, None before any
    ready: bool = False
    fallback: bool = False
    reason: str = ""


@dataclass
class GridEvent:
    clicked: tuple[int, int] | None = None  # (row, column) of the last clicked cell
    z: np.ndarray | None = None  # its code [D]
    ready: bool = False
    fallback: bool = False
    reason: str = ""


def _frontend():
    return declare_component("livemap", path=str(FRONTEND))


def serve(store: AssetStore) -> str:
    """Register the store's folder as a static path and return its URL relative to the iframe:
    the app's asset route where the server has it (route.py: files as stored, no re-compression),
    else a components-v1 static path."""
    tag = hashlib.sha256(str(store.root).encode()).hexdigest()[:12]
    if route.installed():
        return route.serve_folder(tag, store.root)
    comp = declare_component(f"assets_{tag}", path=str(store.root))
    return f"../{comp.name}/"


def _state(key: str) -> dict:
    return st.session_state.setdefault(f"_livemap:{key}", {"waiting_since": None, "fallback": ""})


def unmounted(key: str) -> None:
    """The page did not draw the component `key` this run (a closed expander): its wait for the
    handshake ends, so a mount minutes later is given its own TIMEOUT_S, not the old one's."""
    st.session_state.pop(f"_livemap:{key}", None)


def _mount(mode: str, key: str, args: dict, timeout_s: float) -> tuple[dict | None, bool, str]:
    """Mount (unless this session already fell back): (value, ready, fallback reason or "")."""
    meta = _state(key)
    if meta["fallback"]:
        return None, False, meta["fallback"]
    prev = st.session_state.get(key)
    known = isinstance(prev, dict) and bool(prev.get("ready"))
    slot = st.empty()  # so that a fallback decided in this run can take the iframe away again
    with slot:
        value = _frontend()(mode=mode, key=key, default=None, ready_known=known, spec=_spec(args))
    value = value if isinstance(value, dict) else None
    ready, reason = decide(meta, value, time.monotonic(), timeout_s)
    if reason:
        slot.empty()
    return value, ready, reason


def _spec(args: dict) -> str:
    """The component's arguments as one JSON string (main.js parses it): Streamlit checks every dict
    or list argument of a component for a dataframe, and its first check imports pandas and
    pyarrow — 0.3 s of the first page's run, for a map that has no dataframe."""
    return json.dumps(args, separators=(",", ":"), allow_nan=False)


def decide(meta: dict, value: dict | None, now: float, timeout_s: float) -> tuple[bool, str]:
    """Ready or fall back, from the browser's last value: (ready, reason). Updates `meta`.

    The browser reports `unsupported` or `error` itself, and a widget that cannot start its
    decoder `decoder_error` (not ready); a component that never answers is given `timeout_s`
    from the first run that mounted it (a remount starts a new wait).
    """
    problem = value and (value.get("unsupported") or value.get("error"))
    decoder_problem = value and not value.get("ready") and value.get("decoder_error")
    if problem:
        meta["fallback"] = f"The live map cannot run in this browser: {_line(problem)}."
    elif decoder_problem:
        meta["fallback"] = decoder_note(_line(decoder_problem))
    elif value and value.get("ready"):
        meta["waiting_since"] = None
        return True, ""
    elif meta["waiting_since"] is None:
        meta["waiting_since"] = now
    elif now - meta["waiting_since"] > timeout_s:
        meta["fallback"] = f"The live map did not load within {timeout_s:.0f} s."
    return False, meta["fallback"]


def latent_map(
    points: PointSet,
    store: AssetStore,
    *,
    key: str,
    images: ImageSet | None = None,
    decoder: DecoderAsset | None = None,
    lift: Lift | None = None,
    overlays=(),
    selection=None,
    visible_classes=None,
    values: ValueSet | None = None,
    highlight: int | None = None,
    film: Film | None = None,
    axis_labels=("z1", "z2"),
    equal_aspect: bool = False,
    bounds=None,
    height: int = 520,
    title: str | None = None,
    renderer: str = "auto",
    timeout_s: float = TIMEOUT_S,
) -> MapEvent:
    """Draw the map in the browser: real images on hover, decoding under the pointer (with a
    decoder and a lift), click/box/lasso selection, overlays, an optional training film.

    bounds: (x0, x1, y0, y1) to show at first and on "Reset view" instead of the data's extent
    (several maps with the same bounds share their axes, e.g. on the Compare page).
    renderer: "auto" (WebGL on a GPU, else the canvas), "webgl" or "canvas" (frontend/map/points.js).
    """
    n = points.n
    _check_map(points, images, decoder, lift, values, film, highlight, n)
    extent = _bounds(bounds)
    unavailable = decoder_unavailable(decoder)
    if unavailable:
        decoder = None  # the browser said it cannot run it: do not make it try again
    meta = _state(key)
    command = _selection_command(meta, st.session_state.get(key), selection, n)
    args = {
        "assets": serve(store),
        "points": points.arg(),
        "images": images.arg() if images else None,
        "decoder": decoder.arg() if decoder and lift else None,
        "lift": lift.arg() if decoder and lift else None,
        "overlays": [o.arg() for o in overlays],
        "selection": encode_selection(command, n) if command is not None else None,
        "visible": sorted({int(c) for c in visible_classes}) if visible_classes is not None else None,
        "values": values.arg() if values else None,
        "highlight": int(highlight) if highlight is not None else None,
        "film": film.arg() if film else None,
        "axis_labels": [str(a) for a in axis_labels],
        "equal": bool(equal_aspect),
        "bounds": extent,
        "height": int(height),
        "title": title,
        "renderer": _renderer(renderer),
    }
    value, ready, reason = _mount("map", key, args, timeout_s)
    event = _map_event(value, ready, reason, command, selection, n)
    event.decoder_error = unavailable or (_record_decoder_error(value, decoder) if decoder and lift else "")
    meta["returned"] = event.selection
    return event


def _map_event(value, ready: bool, reason: str, command, selection, n: int) -> MapEvent:
    if reason:
        return MapEvent(fallback=True, reason=reason)
    if command is not None:  # the page chose a selection this run: that is the answer
        return MapEvent(command, "restore", ready)
    if value and "selection" in value:  # the browser's own selection is the newest
        return MapEvent(decode_selection(value["selection"], n), trigger(value.get("trigger")), ready)
    return MapEvent(_as_list(selection), None, ready)


def _selection_command(meta: dict, prev, selection, n: int) -> list[int] | None:
    """The selection the browser must adopt, or None for "keep yours".

    Pages pass back what the last event returned (selection=st.session_state[...]), which lags
    one run behind the browser; sending that as a command would undo the user's newest choice.
    So the caller's selection is a command only on a fresh mount (restore after a remount) or
    when it differs from what this function returned last time (the page chose it: jump to).
    """
    if selection is None:
        return None
    wanted = sorted({int(i) for i in selection})
    fresh = not isinstance(prev, dict)
    if fresh or wanted != meta.get("returned"):
        encode_selection(wanted, n)  # range check, one clear line
        return wanted
    return None


RENDERERS = ("auto", "webgl", "canvas")


def _renderer(r: str) -> str:
    if r not in RENDERERS:
        raise AssetError(f"The map is drawn by one of {', '.join(RENDERERS)}, not {r!r}.")
    return r


def _bounds(b):
    if b is None:
        return None
    x0, x1, y0, y1 = (float(v) for v in b)
    if not all(np.isfinite([x0, x1, y0, y1])) or x1 <= x0 or y1 <= y0:
        raise AssetError(f"Map bounds must be finite (x0, x1, y0, y1) with x0 < x1 and y0 < y1, not {tuple(b)}.")
    return [x0, x1, y0, y1]


def _as_list(selection):
    return [] if selection is None else [int(i) for i in selection]


def _check_map(points, images, decoder, lift, values, film, highlight, n):
    if images is not None and images.n != n:
        raise AssetError(f"The map has {n:,} points but {images.n:,} images: they must match index for index.")
    if decoder is not None and lift is not None and lift.latent_dim != decoder.latent_dim:
        raise AssetError(f"The lift gives codes of size {lift.latent_dim}, the decoder takes {decoder.latent_dim}.")
    if values is not None and values.values.shape != (n,):
        raise AssetError(f"Colour values must be one per point ({n:,}), not shape {list(values.values.shape)}.")
    if film is not None and film.frames.shape[1] != n:
        raise AssetError(f"The film moves {film.frames.shape[1]:,} points; the map has {n:,}.")
    if highlight is not None and not 0 <= int(highlight) < n:
        raise AssetError(f"Highlight index {highlight} is outside the map's 0..{n - 1}.")


def slider_decoder(
    decoder: DecoderAsset,
    store: AssetStore,
    base,
    *,
    key: str,
    order=None,
    names=None,
    lo: float = -4.0,
    hi: float = 4.0,
    step: float = 0.05,
    image_px: int = 280,
    timeout_s: float = TIMEOUT_S,
) -> SliderEvent:
    """One slider per latent dimension (in `order`) and the decoded image, redrawn in the browser
    while dragging; positions come back on release. A new `base` resets the sliders to it."""
    d = decoder.latent_dim
    base = _code(base, d, "base")
    order = list(range(d)) if order is None else [int(j) for j in order]
    if sorted(order) != sorted(set(order)) or any(not 0 <= j < d for j in order):
        raise AssetError(f"Slider order must list distinct dimensions in 0..{d - 1}.")
    names = [f"z{j + 1}" for j in range(d)] if names is None else [str(s) for s in names]
    if len(names) != d:
        raise AssetError(f"Give one slider name per dimension: {d} dimensions, {len(names)} names.")
    if not (lo < hi and step > 0):
        raise AssetError(f"Sliders need lo < hi and a positive step, not {lo}, {hi}, {step}.")
    if unavailable := decoder_unavailable(decoder):
        return SliderEvent(fallback=True, reason=decoder_note(unavailable))
    args = {
        "assets": serve(store),
        "decoder": decoder.arg(),
        "base": base.tolist(),
        "order": order,
        "names": names,
        "range": [float(lo), float(hi), float(step)],
        "image_px": int(image_px),
    }
    value, ready, reason = _mount("sliders", key, args, timeout_s)
    _record_decoder_error(value, decoder)
    if reason:
        return SliderEvent(fallback=True, reason=reason)
    return SliderEvent(finite_code(value.get("z"), d) if value else None, ready)


def grid_decoder(
    decoder: DecoderAsset,
    store: AssetStore,
    base,
    dims: tuple[int, int],
    values,
    *,
    key: str,
    cell_px: int = 56,
    caption: str | None = None,
    axes: tuple[str, str] | None = None,
    timeout_s: float = TIMEOUT_S,
) -> GridEvent:
    """The n x n manifold over dims (rows, columns) at `values` (as vae_core.analysis.latent.manifold_grid:
    rows from high to low), decoded in the browser; a click reports the cell and its code."""
    d = decoder.latent_dim
    base = _code(base, d, "base")
    a, b = (int(x) for x in dims)
    if a == b or not (0 <= a < d and 0 <= b < d):
        raise AssetError(f"The grid needs two different dimensions in 0..{d - 1}, not {dims}.")
    vals = np.asarray(values, np.float64).ravel()
    if not 2 <= len(vals) <= 40 or not np.isfinite(vals).all():
        raise AssetError(f"A grid takes 2 to 40 finite values per axis, not {len(vals)}.")
    if unavailable := decoder_unavailable(decoder):
        return GridEvent(fallback=True, reason=decoder_note(unavailable))
    args = {
        "assets": serve(store),
        "decoder": decoder.arg(),
        "base": base.tolist(),
        "dims": [a, b],
        "values": vals.tolist(),
        "cell_px": int(cell_px),
        "caption": caption,
        "axes": [str(s)[:80] for s in (axes or (f"z{a + 1}", f"z{b + 1}"))],
    }
    value, ready, reason = _mount("grid", key, args, timeout_s)
    _record_decoder_error(value, decoder)
    if reason:
        return GridEvent(fallback=True, reason=reason)
    picked = cell(value.get("cell"), len(vals), len(vals)) if value else None
    if picked is not None:
        z = base.copy()
        r, c = picked
        z[a], z[b] = vals[::-1][r], vals[c]
        return GridEvent((r, c), z, ready)
    return GridEvent(ready=ready)


def _code(z, d: int, what: str) -> np.ndarray:
    a = np.asarray(z, np.float32).ravel()
    if a.shape != (d,) or not np.isfinite(a).all():
        raise AssetError(f"The {what} code must be {d} finite numbers, not shape {list(a.shape)}.")
    return a
