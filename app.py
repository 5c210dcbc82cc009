"""VAE latent-space explorer: `streamlit run app.py`.

The router: page config, the shared sidebar (model + dataset), and st.navigation over
views/ (not pages/: Streamlit treats a `pages/` folder beside the entry script as its legacy
multipage layout and runs the first script run in that mode, bypassing st.navigation).
"""

import streamlit as st

from ui import state

st.set_page_config(page_title="VAE latent-space explorer", page_icon=":material/blur_on:", layout="wide")

PAGES = [
    st.Page("views/latent_map.py", title="Latent map", icon=":material/scatter_plot:", default=True),
    st.Page("views/interpolate.py", title="Interpolate", icon=":material/linear_scale:"),
    st.Page("views/traverse.py", title="Traverse", icon=":material/tune:"),
    st.Page("views/encode.py", title="Encode", icon=":material/draw:"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
]

page = st.navigation(PAGES)
st.session_state["ctx"] = state.sidebar()
page.run()
