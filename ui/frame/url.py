"""Shareable views: every choice that changes what a page draws lives in its URL, so a copied
link reproduces the view, and Back / Forward step through the views a user saw.

    /interpolate?model=<first 12 hex of the checkpoint's sha256>&data=mnist5k&proj=umap&nn=30
        &md=0.1&a=1.0&b=7.0&path=linear&steps=10

The page itself is the URL's path (st.navigation). The URL is *read* on a session's first run
(a link, a refresh) and on a run caused by Back or Forward (the page re-reads its history
entry), into the widgets' state before they are drawn; every run then *writes* the current
choices back. The model travels by content hash, not by file name: the same link finds the
same weights on another machine.

Everything in a URL is untrusted: each value is checked (type, range, finiteness, length) by
the same bounds as its widget before it reaches a widget or an algorithm; one that fails
leaves the default and one quiet note in the sidebar, which stays until the user changes the
view. Writes replace the history entry (ui/frame/browser.py): only a new page is a new entry.
"""

from __future__ import annotations

import functools
import os
import re

import streamlit as st

from ui.frame.url_checks import Choice as Choice  # the checks, re-exported for widgets that seed from the URL
from ui.frame.url_checks import Flag as Flag
from ui.frame.url_checks import Number as Number
from ui.frame.url_checks import Subset as Subset
from ui.frame.url_checks import Vector as Vector
from vae_core.io.projection_cache import file_digest

DIGEST = 12  # hex characters of the sha256: plenty to tell a few hundred files apart
MAX_SELECTION = 100_000  # indices a link may select
MAX_TEXT = 20_000  # characters of one URL value (a selection of many lasso runs is the longest)

# Every URL key, once (the one home of their names); put() refuses any other.
KEYS = {
    "model": "every page: the model, by the first 12 hex digits of its file's sha256",
    "data": "every page: the dataset whose codes are shown",
    "proj": "a map's projection (native, pca, tsne, umap)",
    "n_neighbors": "UMAP's neighbours",
    "min_dist": "UMAP's minimum distance",
    "perplexity": "t-SNE's perplexity",
    "sel": "Latent map: the selected indices (3,10-12)",
    "sigma": "Latent map: σ ellipses shown (0/1)",
    "prior": "Latent map: prior samples shown (0/1)",
    "holes": "Latent map: prior holes shown (0/1)",
    "colour": "Latent map: what colours the points",
    "classes": "Latent map: the classes drawn in colour",
    "3d": "Latent map: the 3-D view shown (0/1)",
    "3d_view": "Latent map: the 3-D view's projection",
    "start_from": "Interpolate: the start is a dataset image or an upload",
    "start_class": "Interpolate: the start's class",
    "start_index": "Interpolate: the start's index within its class",
    "end_from": "Interpolate: the end is a dataset image or an upload",
    "end_class": "Interpolate: the end's class",
    "end_index": "Interpolate: the end's index within its class",
    "path": "Interpolate: linear or spherical",
    "steps": "Interpolate: decoded steps",
    "start": "Traverse: start from the origin or a digit's code",
    "digit_class": "Traverse: the start digit's class",
    "digit_index": "Traverse: the start digit's index within its class",
    "tab": "Traverse: the open tab",
    "rows": "Traverse: the grid's row dimension",
    "cols": "Traverse: the grid's column dimension",
    "grid": "Traverse: the grid's size",
    "range": "Traverse: the grid's range in prior quantiles or σ",
    "q": "Traverse: the grid's quantile",
    "s": "Traverse: the grid's ± σ",
    "z": "Traverse: the sliders' code",
    "export": "Traverse: the exported traversal's dimension",
    "attr": "Traverse: the attribute direction",
    "amount": "Traverse: how far along it",
    "toward": "Traverse: the class a code moves toward",
    "input": "Encode: the open tab (upload or draw)",
    "seed": "Sample: the samples' seed",
    "size": "Compare: the latent size compared",
    "same_axes": "Compare: shared axes (0/1)",
    "sweep": "β sweep: the sweep shown, by its label",
    "image": "ELBO: the image, as split:index (train:12)",
}


# --- when the URL speaks ---


def navigating() -> bool:
    """True on a run caused by the browser's Back or Forward: the page shows that history entry.

    Streamlit marks such a rerun (its frontend sends isHistoryNavigation on popstate); there is no
    public accessor for it, so it is read from the run's context, and taken as False if absent."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx()
    except ImportError:  # pragma: no cover - a Streamlit that moved it: links still work, Back shows the last view
        return False
    return bool(getattr(ctx, "is_history_navigation", False))


def first_run() -> bool:
    """True on the session's first run (a link opened, a refresh)."""
    return not st.session_state.get("_url_read")


def reading() -> bool:
    """Whether this run takes its choices from the URL."""
    return first_run() or navigating()


def raw(name: str) -> str | None:
    """The URL's text for `name` (the last one if repeated); None if absent or absurdly long."""
    if name not in st.query_params:
        return None
    text = st.query_params.get(name)
    if text is not None and len(text) > MAX_TEXT:
        note(name, text[:20], f"longer than {MAX_TEXT:,} characters")
        return None
    return text


def note(name: str, text: str, reason: str) -> None:
    """A URL value that could not be used: it is listed in the sidebar until the user changes the view."""
    shown = re.sub(r"[^A-Za-z0-9._,+-]", "?", str(text))[:24]  # hostile text is never rendered as markup
    notes = st.session_state.setdefault("_url_notes", {})
    notes[name] = f"{name}={shown} ({reason})"


def seed(state_key: str, name: str, check, default) -> None:
    """Before the widget keyed `state_key` is drawn, on a run that reads the URL: its value from
    the URL's `name`, checked; on Back / Forward to an entry without `name`, the default (that
    view had it). A value that fails its check leaves the default and a note."""
    if not reading():
        return
    text = raw(name)
    if text is not None:
        try:
            st.session_state[state_key] = check.parse(text)
            return
        except ValueError as e:
            note(name, text, str(e))
    if text is not None or navigating():
        st.session_state[state_key] = default


# --- the model, the data, a selection, a code ---


@functools.lru_cache(maxsize=1024)
def _digest(path: str, mtime: float, size: int) -> str:
    return file_digest(path)[:DIGEST]


def digest(entry) -> str:
    """A model file's content id, once per file version."""
    return _digest(str(entry.path), entry.mtime, os.stat(entry.path).st_size)


def restore_model(entries: dict, default: str) -> None:
    """Before the sidebar draws its picker: the URL's model (by content hash), if it is here."""
    if not reading():
        return
    wanted = raw("model")
    if wanted is None:
        if navigating():
            st.session_state["model"] = default
        return
    if re.fullmatch(f"[0-9a-f]{{{DIGEST}}}", wanted):
        for path, entry in entries.items():
            if digest(entry) == wanted:
                st.session_state["model"] = path
                return
        note("model", wanted, "no model here has these weights; showing the default one")
    else:
        note("model", wanted, "not a model id")
    st.session_state["model"] = default


def restore_data(key: str, options: list[str]) -> None:
    seed(key, "data", Choice(tuple(options)), options[0])


def selection(n: int) -> list[int] | None:
    """The URL's selection (indices and ranges, e.g. 3,10-12) on a run that reads the URL
    ([] on Back / Forward to an entry without one); None otherwise."""
    if not reading():
        return None
    text = raw("sel")
    if text is None:
        return [] if navigating() else None
    return parse_indices(text, n)


def code(d: int, bound: float = 1e6) -> list[float] | None:
    """The URL's slider positions (a code z of size d) on a run that reads the URL; None otherwise."""
    if not reading() or (text := raw("z")) is None:
        return None
    try:
        return Vector(d, bound).parse(text)
    except ValueError as e:
        note("z", text, str(e))
        return None


def parse_indices(text: str, n: int) -> list[int]:
    """'3,10-12' -> [3, 10, 11, 12], keeping what is a valid index below n; never raises."""
    out: set[int] = set()
    for part in str(text).split(",")[:MAX_SELECTION]:
        lo, _, hi = part.partition("-")
        if len(lo) > 12 or len(hi) > 12:
            continue
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            continue
        out.update(range(max(a, 0), min(b, n - 1, max(a, 0) + MAX_SELECTION) + 1))
        if len(out) > MAX_SELECTION:
            break
    return sorted(out)[:MAX_SELECTION]


def format_indices(indices) -> str:
    """[3, 10, 11, 12] -> '3,10-12': runs of consecutive indices as ranges (a lasso gives many)."""
    runs, out = [], sorted(set(int(i) for i in indices))
    for i in out:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def link(ctx, **values) -> dict:
    """Query parameters of a link to another page showing this model and data, plus `values`."""
    return {"model": digest(ctx.entry), "data": ctx.data_name, **values}


# --- one write per run ---


def begin() -> None:
    """At the start of a run: nothing put yet (a page puts what it shows); the note's place."""
    st.session_state["_url_values"] = {}
    with st.sidebar:
        st.session_state["_url_slot"] = st.empty()


def put(**values) -> None:
    """A page's current choices, for the URL (written when the run ends). None or "" leaves a key out."""
    unknown = set(values) - set(KEYS)
    if unknown:
        raise KeyError(f"URL keys live in ui/frame/url.py's KEYS; not there: {sorted(unknown)}")
    st.session_state.setdefault("_url_values", {}).update(values)


def finish(ctx) -> None:
    """At the end of a run: the URL shows this run's choices, and only those.

    A run that read the URL writes nothing: the address bar keeps the link (or the history
    entry) until the user changes the view, and so does the note about what in it could not be
    used. Then one write replaces the query string (ui/frame/browser.py turns Streamlit's
    push into a replace).

    Streamlit drops a message enqueued once a stop or a rerun is pending (the enqueue raises
    instead), while its server-side copy of the query string already holds the new value: a
    comparison with that copy alone would then never resend it. So what the browser was last
    sent is remembered, and everything is sent again whenever that is not known to match."""
    values = dict(st.session_state.get("_url_values", {}))
    if ctx is not None:
        values.update(model=digest(ctx.entry), data=ctx.data_name)
    want = {k: str(v) for k, v in values.items() if v is not None and v != "" and v != []}
    if reading():
        st.session_state["_url_read"] = True
        st.session_state["_url_base"] = want
    elif want != st.session_state.get("_url_base"):  # the user changed the view: the link's note has done its job
        st.session_state.pop("_url_base", None)
        st.session_state.pop("_url_notes", None)
        _write(want)
    _show_notes()


def _write(want: dict) -> None:
    have = {k: st.query_params.get(k) for k in st.query_params}
    if want == have and st.session_state.get("_url_sent") == want:
        return
    st.session_state.pop("_url_sent", None)
    st.query_params.from_dict(want)  # one message: one history entry at most (replaced, see browser.py)
    st.session_state["_url_sent"] = want  # reached only when the message went out


def _show_notes() -> None:
    notes = st.session_state.get("_url_notes")
    slot = st.session_state.get("_url_slot")
    if notes and slot is not None:
        slot.info(
            "Part of this link could not be used, so the page shows defaults for it: " + "; ".join(notes.values()) + "."
        )


def stop(ctx=None) -> None:
    """st.stop() for pages: the URL is written first (after st.stop() nothing can be sent)."""
    finish(ctx if ctx is not None else st.session_state.get("ctx"))
    st.stop()
