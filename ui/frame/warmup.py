"""What the server does while the first browser is still loading (app.py starts it in a thread):
list the models (the registry keeps what it parsed), import torch and the engine's heavy modules
(about 2 s here) and fill the engine's own caches (the embedded digits, the default model's file),
so a visitor's first run and later clicks find them ready.

The first page does not wait for any of it: its map draws from shipped arrays
(ui/services/first_map.py). Nothing here calls Streamlit: a cached Streamlit call made outside a
script run logs "missing ScriptRunContext" warnings that mean nothing to a user.
"""

from __future__ import annotations

import logging


def run() -> None:
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
