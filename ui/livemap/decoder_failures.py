"""Decoders a browser said it cannot run, remembered per session: the pages then decode on the
server with one note instead of mounting a widget that will fail again (ui/livemap/component.py)."""

from __future__ import annotations

import streamlit as st

from .assets import DecoderAsset

MAX_REASON_CHARS = 300  # a browser's own words (untrusted) shown to the user: one line, bounded


def decoder_note(reason: str) -> str:
    """The one line a page shows when this browser cannot run a decoder."""
    return f"This browser cannot run the decoder ({reason}): decoded images come from the server."


def _line(text) -> str:
    """A browser's message as one bounded, printable line."""
    out = "".join(c if c.isprintable() else " " for c in str(text)).strip()
    return out if len(out) <= MAX_REASON_CHARS else out[: MAX_REASON_CHARS - 1] + "…"


def _decoder_id(decoder: DecoderAsset) -> str:
    return decoder.graph.file if decoder.kind == "onnx" else decoder.weights.file


def _failures() -> dict:
    """{decoder kind or decoder file: why this browser cannot run it}, for this session."""
    return st.session_state.setdefault("_livemap:decoder_failures", {})


def decoder_unavailable(decoder: DecoderAsset | None) -> str:
    """Why this session's browser cannot run `decoder` (it said so earlier), or ""."""
    if decoder is None:
        return ""
    failures = _failures()
    return failures.get(decoder.kind) or failures.get(_decoder_id(decoder)) or ""


def _record_decoder_error(value, decoder: DecoderAsset | None) -> str:
    """Remember a decoder the browser reported it cannot run: its whole kind when the runtime
    itself failed to start (scope "runtime"), else that one graph. Returns the reason or ""."""
    error = value.get("decoder_error") if isinstance(value, dict) else None
    if not error or not isinstance(error, str) or decoder is None:
        return ""
    reason = _line(error)
    if value.get("decoder_scope") == "runtime" and decoder.kind == "onnx":
        _failures()[decoder.kind] = reason
    elif value.get("decoder_id") == _decoder_id(decoder):
        _failures()[_decoder_id(decoder)] = reason
    else:  # about a decoder this call no longer sends
        return ""
    return reason
