"""`streamlit run app.py`: the explorer (explorer.py) served as a Streamlit ASGI app.

Why not run explorer.py directly: Streamlit runs a page's script only when a browser session
connects. As an st.App, the server starts a warm-up (ui/frame/warmup.py) in a background thread
the moment it starts: torch and the engine load while the first visitor's map is drawn from
shipped arrays (ui/services/first_map.py), so their next clicks find the engine ready.
`streamlit run explorer.py` works too, without the warm-up.
"""

import threading
from contextlib import asynccontextmanager

import streamlit as st


@asynccontextmanager
async def lifespan(_app):
    from ui.frame import warmup

    threading.Thread(target=warmup.run, name="vae-explorer-warmup", daemon=True).start()
    yield


def routes():
    from ui.livemap import route  # the live map's routes: images under the pointer, its files as stored

    return route.routes()


def skip_component_scan() -> None:
    """At start Streamlit reads the metadata of every installed package, looking for v2 components
    (without it the server's first answer came 0.62 -> 0.48 s after launch here, medians of 6).
    This app uses no packaged component (its map is ui/livemap, declared in code): the scan finds
    nothing."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:  # another Streamlit layout: it scans, as before
        return
    manifest_scanner.scan_component_manifests = lambda *args, **kwargs: []


skip_component_scan()
app = st.App("explorer.py", lifespan=lifespan, routes=routes())
