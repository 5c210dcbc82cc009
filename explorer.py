"""VAE latent-space explorer: the main script (`streamlit run app.py` serves it; see app.py).

The router: page config, the shared sidebar (model + dataset), and st.navigation over
views/ (not pages/: Streamlit treats a `pages/` folder beside the entry script as its legacy
multipage layout and runs the first script run in that mode, bypassing st.navigation).
"""

from pathlib import Path

import streamlit as st

from ui import context, share
from ui.views import VIEWS

# A local icon: a material-symbol page icon makes the browser fetch it from a font CDN (offline: a failed request).
ICON = str(Path(__file__).resolve().parent / "ui" / "icon.png")
st.set_page_config(page_title="VAE latent-space explorer", page_icon=ICON, layout="wide")

PAGES = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(VIEWS)]

page = st.navigation(PAGES)
share.begin()
st.session_state["ctx"] = ctx = context.sidebar()
try:
    page.run()
finally:  # also when a page stops early (st.stop): the URL always shows this run's choices
    share.finish(ctx)
