"""The per-browser id that keeps a job its owner's across a refresh: a cookie, trusted only as a
32-hex token and never written back into the page."""

from types import SimpleNamespace

import pytest
import streamlit
import streamlit as st

from ui.frame import browser


@pytest.fixture
def cookie(monkeypatch):
    def send(value):
        monkeypatch.setattr(streamlit, "context", SimpleNamespace(cookies={browser.COOKIE: value} if value else {}))
        st.session_state.pop("_browser_id", None)  # a new session

    return send


def test_the_browsers_cookie_is_its_identity_in_every_session(cookie):
    cookie("0123456789abcdef0123456789abcdef")
    assert browser.identity() == "0123456789abcdef0123456789abcdef"
    cookie("0123456789abcdef0123456789abcdef")  # after a refresh: the same browser, the same owner
    assert browser.identity() == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "value",
    [None, "", "short", "0123456789ABCDEF0123456789ABCDEF", "x" * 10_000, "</script><script>alert(1)//", "a" * 33],
)
def test_a_missing_or_forged_cookie_gets_a_fresh_id_that_is_all_the_page_ever_writes(cookie, value):
    cookie(value)
    mine = browser.identity()
    assert browser.ID.fullmatch(mine) and mine != value
    assert browser.identity() == mine  # one per session
    script = browser.SCRIPT % {"cookie": browser.COOKIE, "id": mine, "age": browser.MAX_AGE_S}
    assert mine in script and (not value or value not in script)
