"""t-SNE and UMAP maps are fitted in the background, for every size, debounced and cancellable.

A t-SNE of 4,500 codes held its page for 73-75 s under a spinner promising 30 s (issue 17.7),
and every arrow-key step on the perplexity slider started another. Now a map that is not on
disk is asked of the fit lane (ui/services/tasks): the request waits DEBOUNCE_S for the slider
to settle (a newer request of the same model, data and method replaces it, and stops one that
is running), the page keeps showing the last good map with a bar, a Cancel button and an
estimate, and reruns when the map is on disk (every session finds it there afterwards).

Above manifold.FIT_MAX codes the map is fitted on a seeded subsample and the other codes are
placed by their nearest fitted codes (vae_core.analysis.manifold). The estimate is this
machine's: each stage's seconds per 1,000 codes from the last fits here (ui/services/tasks),
else the defaults below, measured on this 2-core VM under load (README, "Performance"); a
t-SNE also reports its iterations, so its bar is its real progress.
"""

from __future__ import annotations

import time

import numpy as np

from ui import settings
from ui.services import tasks
from ui.services.models import ModelRef

DEBOUNCE_S = 1.5  # a fit starts once its parameters have not changed for this long
# Seconds per 1,000 codes, measured on this 2-core VM with other work running (load ~12):
# openTSNE fit of 10,000 vae-z16 codes 174 s; UMAP of 20,000 (numba compiled) ~60 s;
# placing 200,000 codes by their 10 nearest of 10,000 fitted ones 15.8 s.
DEFAULT_S_PER_1K = {"tsne-fit": 17.4, "umap-fit": 3.0, "place": 0.08}
NAMES = {"tsne": "t-SNE", "umap": "UMAP"}


def data_key(ref: ModelRef, n: int) -> str:
    return f"{ref.data}:train:{n}"


def on_disk(ref: ModelRef, method: str, params: tuple, mean: np.ndarray) -> bool:
    """Whether the map is shipped or in the app's cache (then drawing it costs a file read)."""
    from vae_core.analysis import projection

    folder = settings.cache_dir("projections")
    found = projection.lookup(mean, method, dict(params), ref.path, data_key(ref, len(mean)), cache_dir=folder)
    return found is not None


def ready(ref: ModelRef, method: str, params: tuple, mean: np.ndarray, dims) -> bool:
    """True when the map is on disk; else its fit is asked for (debounced) and followed with a bar."""
    if on_disk(ref, method, params, mean):
        return True
    from ui.services import progress

    if ("fit", ref, method, params) in progress.cancelled():
        again = progress.stopped_note(f"The {NAMES[method]} fit was cancelled", f"fit_again_{method}")
        if not again:
            return False
        progress.cancelled().discard(("fit", ref, method, params))
    task = request(ref, method, params, mean, dims)
    if task.state == "done":
        tasks.board().forget(task.key)
        return True  # written to disk (or, on a read-only disk, refitted once by `project`)
    if task.state == "failed":
        progress.failed(task, f"The {NAMES[method]} map could not be fitted")
        return False
    progress.follow(task, key=f"fit_{abs(hash(task.key))}", meanwhile=True)
    return False


def request(ref: ModelRef, method: str, params: tuple, mean: np.ndarray, dims) -> tasks.Task:
    """The fit of this map on the fit lane; a newer request for this model, data and method replaces it."""
    from vae_core.analysis import manifold

    key, group = ("fit", ref, method, params), ("fit", ref, method)
    title = f"Fitting {NAMES[method]} ({_words(method, params)}) on {len(mean):,} codes"
    task = tasks.board().submit(key, group, "fit", title, _work(ref, method, params, mean, dims), DEBOUNCE_S)
    if task.estimate_s is None:
        fitted = min(len(mean), manifold.FIT_MAX[method])
        fit_s, fit_measured = _per_1k(f"{method}-fit")
        place_s, place_measured = _per_1k("place")
        task.estimate_s = (fit_s * fitted + place_s * (len(mean) - fitted)) / 1000
        task.measured = fit_measured
        if fitted < len(mean):
            task.note = (
                f"fitted on a fixed random {fitted:,} of the codes; the other {len(mean) - fitted:,} are placed "
                "by their 10 nearest fitted codes"
            )
    return task


def _per_1k(kind: str) -> tuple[float, bool]:
    return tasks.seconds_per_1k(kind, DEFAULT_S_PER_1K[kind])


def _words(method: str, params: tuple) -> str:
    names = {"perplexity": "perplexity", "n_neighbors": "neighbours", "min_dist": "min. distance"}
    return ", ".join(f"{names.get(k, k)} {v:g}" for k, v in params) or "defaults"


def _work(ref: ModelRef, method: str, params: tuple, mean: np.ndarray, dims):
    """The fit itself, on the fit lane: project() writes the map to the app's cache when it is done."""

    def work(task):
        from vae_core.analysis import manifold, projection

        stages = Stages(method, task, min(len(mean), manifold.FIT_MAX[method]))
        projection.project(
            mean,
            method,
            dict(params),
            ref.path,
            data_key(ref, len(mean)),
            0,
            dims,
            settings.cache_dir("projections"),
            progress=stages,
            should_stop=task.should_stop,
        )
        stages.close()

    return work


class Stages:
    """Progress reports -> the task's bar, and each finished stage's time -> this machine's estimates."""

    def __init__(self, method: str, task, n_fit: int):
        self.method, self.task, self.n_fit = method, task, n_fit
        self.stage, self.total, self.since = None, 0, time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.since = stage, time.monotonic()
        self.total = total
        self.task.report(stage, done, total)

    def close(self) -> None:
        """Record the stage that just ended: the fit per fitted code, the placing per placed code."""
        if self.stage is None:
            return
        kind = f"{self.method}-fit" if self.stage == "fit" else self.stage
        tasks.record(kind, self.n_fit if self.stage == "fit" else self.total, time.monotonic() - self.since)
        self.stage = None
