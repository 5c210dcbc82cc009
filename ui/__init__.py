"""The app, by role (imports flow downwards; .importlinter checks it):

sections     per-page sections named after their page (compare, train, traverse, sweep)
components   widgets, maps, panels, the film player: what several pages draw
frame        every page's frame: the sidebar's Context, URL state, the page list, warm-up, probes
services     cached calls over the engine (models, data, codes and maps, measures, map assets)
render       figures and exports, without Streamlit (plotly versions of the live map's overlays)
livemap      our browser component (Python side + frontend/)
settings     folders and limits from the environment
"""
