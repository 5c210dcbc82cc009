"""`streamlit run app.py`: the explorer (explorer.py) served as a Streamlit ASGI app.

Why not run explorer.py directly: Streamlit runs a page's script only when a browser session
connects, so the first visitor would wait for torch and the data to load. As an st.App, the
server starts a warm-up (ui/warmup.py) in a background thread the moment it starts, while the
browser is still fetching Streamlit's frontend; the first script run then finds them loaded.
`streamlit run explorer.py` works too, without the warm-up.
"""

import threading
from contextlib import asynccontextmanager

import streamlit as st


@asynccontextmanager
async def lifespan(_app):
    from ui import warmup

    threading.Thread(target=warmup.run, name="vae-explorer-warmup", daemon=True).start()
    yield


app = st.App("explorer.py", lifespan=lifespan)
