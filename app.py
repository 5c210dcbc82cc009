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


app = st.App("explorer.py", lifespan=lifespan, routes=routes())
