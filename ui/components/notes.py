"""A note shown once per run, however many widgets raise it: a page with three maps (Compare), or
a map, sliders and a grid, says once that this browser cannot run the decoder."""

from __future__ import annotations

import streamlit as st

KEY = "_notes_this_run"


def new_run() -> None:
    """explorer.py calls this at the top of every run."""
    st.session_state[KEY] = set()


def once(text: str) -> None:
    """st.caption(text), unless this run already showed it."""
    shown = st.session_state.setdefault(KEY, set())
    if text and text not in shown:
        shown.add(text)
        st.caption(text)
