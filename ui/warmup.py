"""Work the first page view needs, done when the server starts (see app.py): the imports
(torch alone takes about 2 s here), the embedded dataset, and the default model's native map
with its live-map assets — through the same cached calls the Latent map page makes, so the
first visitor's run finds them done. A session that arrives first simply finds less done."""

from __future__ import annotations

import logging


def run() -> None:
    try:
        from ui import context, maps, state

        entries = [e for e in state.model_entries() if e.ok and state.compatible_datasets(e)]
        if not entries:
            return
        path = context.default_model(entries)
        entry = next(e for e in entries if str(e.path) == path)
        data_name = state.compatible_datasets(entry)[0]
        model, _ = state.load_model(str(entry.path), entry.mtime)
        mean, logvar = state.codes(str(entry.path), entry.mtime, data_name, model)
        method = "native" if mean.shape[1] == 2 else "pca"
        dims = state.native_dims(mean, logvar) if mean.shape[1] > 2 else (0, 1)
        proj = state.project(str(entry.path), entry.mtime, data_name, method, (), mean, dims)
        if maps.live():
            maps.assets(entry, model, data_name, proj)
    except Exception:  # a warm-up must never take the server down; the page will report the problem
        logging.getLogger(__name__).exception("warm-up failed")
