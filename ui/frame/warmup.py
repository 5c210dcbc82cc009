"""What the server does while the first browser is still loading (app.py starts it in a thread):
list the models (the registry keeps what it parsed), import torch and the engine's heavy modules
(about 2 s here) and fill the engine's own caches (the embedded digits, the default model's file),
so a visitor's first run and later clicks find them ready.

The first page does not wait for any of it: its map draws from shipped arrays
(ui/services/first_map.py). Nor does it share the process with it: the warm-up starts once the
first page's run has ended (explorer.py calls first_page_done) and its browser has had GRACE_S to
fetch the map's component and files from this server. Importing torch beside that page held
Python's lock for two seconds of its first draw (bench.browser's startup row: 5.8-6.0 s with the
warm-up started at once, 3.6-4.3 s without, measured back to back with one core busy). With no
visitor, it starts after ALONE_S. Nothing here calls Streamlit: a cached Streamlit call made
outside a script run logs "missing ScriptRunContext" warnings that mean nothing to a user.
"""

from __future__ import annotations

import logging
import threading

GRACE_S = 2.0  # after the first page's run: its browser fetches the component, points and images now
ALONE_S = 20.0  # no visitor yet: warm up anyway

_first_page = threading.Event()


def first_page_done() -> None:
    """The first page's script run has ended (any page's): the warm-up may start."""
    _first_page.set()


def run() -> None:
    if _first_page.wait(ALONE_S):
        threading.Event().wait(GRACE_S)  # let the first visitor's browser fetch what its map needs
    try:
        from ui.services.models import model_entries

        model_entries()  # the model list's first scan (ONNX graphs parsed: ~0.5 s) before the first run needs it
        import vae_core
        from ui import settings
        from vae_core.analysis import projection  # noqa: F401  (and numpy, scipy's pieces it uses)
        from vae_core.data import catalog
        from vae_core.io import registry

        default = settings.shipped_dir() / "vae-z2.safetensors"
        vae_core.load_dataset("mnist5k", "train")  # the engine keeps the parsed digits (lru_cache)
        if default.is_file() and registry.describe(default, "shipped").ok:
            vae_core.load_checkpoint(default)  # torch's first-use costs and the file in the OS cache
        for name in catalog.EMBEDDED:
            catalog.is_available(name)
        import sklearn.decomposition  # noqa: F401  (PCA maps: a second of imports)
    except Exception:  # a warm-up must never take the server down; the page will report the problem
        logging.getLogger(__name__).exception("warm-up failed")
