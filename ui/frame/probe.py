"""What a page drew, for tests: the one way production code exposes state to tests.

A page records values it computed and drew (the projection actually shown, the selection it
received from the browser, the models compared) with `record(name=value)`. They land in
`st.session_state["_probe"]`, where Streamlit's AppTest reads them (`probe.read(at, name)`)
and browser tests ignore them. Recording costs a dict update; nothing reads the values back
in the app itself, so a page never depends on them.
"""

from __future__ import annotations

import streamlit as st

KEY = "_probe"


def record(**values) -> None:
    st.session_state.setdefault(KEY, {}).update(values)


def read(app_test, name: str, default=None):
    """A recorded value from an AppTest run (tests only)."""
    probes = app_test.session_state[KEY] if KEY in app_test.session_state else {}
    return probes.get(name, default)
