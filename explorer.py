"""VAE latent-space explorer: the main script (`streamlit run app.py` serves it; see app.py).

The router: page config, the shared sidebar (model + dataset), and st.navigation over
views/ (not pages/: Streamlit treats a `pages/` folder beside the entry script as its legacy
multipage layout and runs the first script run in that mode, bypassing st.navigation).
"""

from pathlib import Path

import streamlit as st

from ui.components import notes
from ui.frame import browser, context, url, warmup
from ui.frame.pages import VIEWS
from ui.services import progress
from ui.services.tasks import Pending
from vae_core.io.header import CheckpointError

# A local icon: a material-symbol page icon makes the browser fetch it from a font CDN (offline: a failed request).
ICON = str(Path(__file__).resolve().parent / "ui" / "frame" / "icon.png")
st.set_page_config(page_title="VAE latent-space explorer", page_icon=ICON, layout="wide")

PAGES = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(VIEWS)]

page = st.navigation(PAGES)
browser.install()  # before anything writes the URL: mirror writes replace the history entry
url.begin()
notes.new_run()
st.session_state["ctx"] = ctx = context.sidebar()
try:
    page.run()
except CheckpointError as e:  # a model that passed the header checks but not the load-time probe
    st.warning(f"The model you picked cannot be used: {e} Pick another one.")
except Pending as p:  # long work (encoding a big dataset) the page needs: say what, follow it, rerun when done
    progress.wait(p.task)
finally:  # also when a page stops early (st.stop): the URL always shows this run's choices
    url.finish(ctx)
    warmup.first_page_done()  # app.py's warm-up waits for it: the first visitor's map comes first
