"""What only the browser can do, asked of it once per document (explorer.py calls install() on
every run): replace history entries that only mirror state, and keep a per-browser identity.

History. Streamlit's frontend pushes a history entry for every query-string write (its
App.handlePageInfoChanged calls history.pushState; its maintainers keep push on purpose, so that
a write can be undone: streamlit/streamlit#16831) as well as for every page switch. Our URL only
mirrors the view (ui/frame/url.py), so a push that keeps the page's path becomes a replace: a new
page is one entry, a choice on a page updates that page's entry, and Back goes to the previous
view. Streamlit's own widget-to-URL binding (bind="query-params") replaces for the same reason.

Identity. A refresh opens a new websocket session, so st.session_state cannot say who started a
training job. The browser keeps a random id in a cookie: a session whose handshake carried none
is handed a fresh one, which the script stores (unless the cookie appeared meanwhile), and every
later session of this browser reads it back from st.context.cookies. The cookie is only ever
compared with job owners, never shown, run or written back: a malformed one is ignored.
"""

from __future__ import annotations

import re
import uuid

import streamlit as st

COOKIE = "vae_explorer_browser"
ID = re.compile(r"[0-9a-f]{32}")
KEY = "vae_browser"  # the hidden container's key (its CSS class is st-key-vae_browser)
MAX_AGE_S = 365 * 24 * 3600

SCRIPT = """<script>
(() => {
  const h = window.history;
  if (!h.__vaeMirrorReplace) {
    const push = h.pushState.bind(h);
    h.pushState = (state, unused, url) => {
      let samePage = url === undefined || url === null;
      try { samePage = samePage || new URL(url, location.href).pathname === location.pathname; } catch (e) {}
      return samePage ? h.replaceState(state, unused, url) : push(state, unused, url);
    };
    h.__vaeMirrorReplace = true;
  }
  if (!document.cookie.split("; ").some((c) => c.startsWith("%(cookie)s=")))
    document.cookie = "%(cookie)s=%(id)s; path=/; max-age=%(age)d; SameSite=Strict";
})();
</script>"""


def identity() -> str:
    """This browser's id: its cookie's, else one handed out to this session (and stored by install())."""
    kept = st.session_state.get("_browser_id")
    if kept is not None:
        return kept
    try:
        cookie = st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind this run (a test harness): a session id is all there is
        cookie = None
    ours = cookie if isinstance(cookie, str) and ID.fullmatch(cookie) else uuid.uuid4().hex
    st.session_state["_browser_id"] = ours
    return ours


def install() -> None:
    """The history shim and the identity cookie, in a hidden element (its script runs once per
    document load: the same body on every run is not re-run by the frontend)."""
    script = SCRIPT % {"cookie": COOKIE, "id": identity(), "age": MAX_AGE_S}
    st.html(f"<style>.st-key-{KEY} {{display: none}}</style>")
    with st.container(key=KEY):
        st.html(script, unsafe_allow_javascript=True)
