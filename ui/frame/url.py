"""Shareable views: what the user chose lives in the page's URL, so a copied link reproduces it.

    ?model=<first 12 hex of the checkpoint's sha256>&data=mnist5k&proj=umap&n_neighbors=30
        &min_dist=0.1&sel=12,40-45&z=0.5,-1.25&image=val:1

The page itself is the URL's path (st.navigation). A session reads the URL once, on its first
run, into the widgets' state (before they are drawn, so they start there); every run then
writes the current choices back. The model travels by content hash, not by file name: the
same link finds the same weights on another machine, and a link to weights that are not here
falls back to the default model with a note.
"""

from __future__ import annotations

import functools
import os

import streamlit as st

from vae_core.io.projection_cache import file_digest

DIGEST = 12  # hex characters of the sha256: plenty to tell a few hundred files apart
PARAMS = {"n_neighbors": int, "min_dist": float, "perplexity": float}
MAX_SELECTION = 100_000


@functools.lru_cache(maxsize=1024)
def _digest(path: str, mtime: float, size: int) -> str:
    return file_digest(path)[:DIGEST]


def digest(entry) -> str:
    """A model file's content id, once per file version."""
    return _digest(str(entry.path), entry.mtime, os.stat(entry.path).st_size)


def first_run() -> bool:
    """True on the session's first run only: the one time the URL speaks."""
    return not st.session_state.get("_url_read")


def restore_model(entries: dict) -> None:
    """Before the sidebar draws its picker: the URL's model (by content hash), if it is here."""
    if not first_run() or "model" not in st.query_params:
        return
    wanted = st.query_params["model"][:DIGEST]
    for path, entry in entries.items():
        if digest(entry) == wanted:
            st.session_state["model"] = path
            return
    st.session_state["_url_note"] = f"The link names a model that is not here ({wanted}); showing the default one."


def restore_data(key: str, options: list[str]) -> None:
    if first_run() and st.query_params.get("data") in options:
        st.session_state[key] = st.query_params["data"]


def restore_projection(key: str) -> None:
    """Seed a projection picker (keys as widgets.projection_controls) from the URL."""
    if not first_run():
        return
    q = st.query_params
    if q.get("proj") in ("native", "pca", "tsne", "umap"):
        st.session_state[f"{key}_method"] = q["proj"]
    widgets = {"n_neighbors": f"{key}_nn", "min_dist": f"{key}_md", "perplexity": f"{key}_perp"}
    for name, cast in PARAMS.items():
        try:
            if name in q:
                st.session_state[widgets[name]] = cast(q[name])
        except ValueError:
            pass  # a mangled number in a link: the widget keeps its default


def selection(n: int) -> list[int] | None:
    """The URL's selection (indices and ranges, e.g. 3,10-12), on the first run; None otherwise."""
    if not first_run() or "sel" not in st.query_params:
        return None
    return parse_indices(st.query_params["sel"], n)


def code(d: int) -> list[float] | None:
    """The URL's slider positions (a code z of size d), on the first run; None otherwise."""
    if not first_run() or "z" not in st.query_params:
        return None
    try:
        z = [float(v) for v in st.query_params["z"].split(",")]
    except ValueError:
        return None
    return z if len(z) == d and all(abs(v) < 1e6 for v in z) else None


def parse_indices(text: str, n: int) -> list[int]:
    """'3,10-12' -> [3, 10, 11, 12], keeping what is a valid index below n; never raises."""
    out: set[int] = set()
    for part in str(text).split(",")[:MAX_SELECTION]:
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            continue
        out.update(range(max(a, 0), min(b, n - 1) + 1))
        if len(out) > MAX_SELECTION:
            break
    return sorted(out)


def format_indices(indices) -> str:
    """[3, 10, 11, 12] -> '3,10-12': runs of consecutive indices as ranges (a lasso gives many)."""
    runs, out = [], sorted(set(int(i) for i in indices))
    for i in out:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


KEYS = ("model", "data", "proj", *PARAMS, "sel", "z", "image")  # the URL keys this module owns


def link(ctx, **values) -> dict:
    """Query parameters of a link to another page showing this model and data, plus `values`."""
    return {"model": digest(ctx.entry), "data": ctx.data_name, **values}


def begin() -> None:
    """At the start of a run: nothing put yet (a page puts what it shows)."""
    st.session_state["_url_values"] = {}


def put(**values) -> None:
    """A page's current choices, for the URL (written when the run ends)."""
    st.session_state.setdefault("_url_values", {}).update(values)


def finish(ctx) -> None:
    """At the end of a run: the URL shows this run's choices only.

    Streamlit drops a message enqueued once a stop or a rerun is pending (the enqueue raises
    instead), while its server-side copy of the query string already holds the new value: a
    comparison with that copy alone would then never resend it. So what the browser was last
    sent is remembered, and everything is sent again whenever that is not known to match."""
    values = dict(st.session_state.get("_url_values", {}))
    if ctx is not None:
        values.update(model=digest(ctx.entry), data=ctx.data_name)
    st.session_state["_url_read"] = True
    want = {k: str(v) for k in KEYS if (v := values.get(k)) is not None and v != "" and v != []}
    have = {k: st.query_params[k] for k in KEYS if k in st.query_params}
    if want == have and st.session_state.get("_url_sent") == want:
        return
    st.session_state.pop("_url_sent", None)
    for k in KEYS:
        if k in want:
            st.query_params[k] = want[k]
        elif k in st.query_params:
            del st.query_params[k]
    st.session_state["_url_sent"] = want  # reached only when every message went out


def stop(ctx=None) -> None:
    """st.stop() for pages: the URL is written first (after st.stop() nothing can be sent)."""
    finish(ctx if ctx is not None else st.session_state.get("ctx"))
    st.stop()
