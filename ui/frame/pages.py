"""The app's pages, in menu order: (file, menu title, icon). Used by app.py, tests and bench."""

VIEWS = [
    ("views/latent_map.py", "Latent map", ":material/scatter_plot:"),
    ("views/interpolate.py", "Interpolate", ":material/linear_scale:"),
    ("views/traverse.py", "Traverse", ":material/tune:"),
    ("views/encode.py", "Encode", ":material/draw:"),
    ("views/elbo.py", "ELBO", ":material/functions:"),
    ("views/sample.py", "Sample", ":material/casino:"),
    ("views/compare.py", "Compare", ":material/compare:"),
    ("views/sweep.py", "β sweep", ":material/show_chart:"),
    ("views/train.py", "Train", ":material/model_training:"),
]
VIEW_FILES = [path for path, _, _ in VIEWS]
