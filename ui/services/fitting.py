"""Large t-SNE and UMAP maps are fitted in the background, one at a time, with a progress bar.

A map of 54,000 Fashion codes takes minutes to fit on two cores; holding a page (and its
session) for that long is what a user reads as a hang. Above BIG points a map that is not on
disk yet is fitted by one server-wide worker thread (two tabs asking for the same map share
one fit), written to the app's projection cache, and the page shows the PCA map meanwhile with
a progress bar. scikit-learn's t-SNE and umap-learn report no progress we can read, so the bar
is the elapsed time against an estimate measured on this class of machine, and says so.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import streamlit as st

BIG = 10_000  # points: above this a missing t-SNE / UMAP map is fitted in the background
# Seconds per 1,000 points on 2 cores, from the shipped Fashion maps (54,000 codes; scripts/ship_projections):
# t-SNE took 784 s and UMAP 34-237 s while other jobs shared the cores; a quiet machine is faster.
# t-SNE grows a little faster than linearly (Barnes-Hut, n log n); UMAP about linearly.
SECONDS_PER_1K = {"tsne": 10.0, "umap": 2.0}


@dataclass
class Fit:
    future: Future
    method: str
    n: int
    started: float
    shown: str = "PCA"  # the map shown meanwhile

    def expected_s(self) -> float:
        return SECONDS_PER_1K[self.method] * self.n / 1000

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started


@st.cache_resource(show_spinner=False)
def _worker() -> tuple[ThreadPoolExecutor, dict, threading.Lock]:
    """One fitting thread and the fits it knows, for the whole server."""
    return ThreadPoolExecutor(1, thread_name_prefix="map-fit"), {}, threading.Lock()


def start(key: tuple, method: str, n: int, fit, shown: str = "PCA") -> Fit:
    """The fit for `key`, started once (a failed one is started again on the next call)."""
    pool, fits, lock = _worker()
    with lock:
        found = fits.get(key)
        if found is None or (found.future.done() and found.future.exception() is not None):
            found = fits[key] = Fit(pool.submit(fit), method, n, time.monotonic(), shown)
        return found


def forget(key: tuple) -> None:
    pool, fits, lock = _worker()
    with lock:
        fits.pop(key, None)


def _minutes(s: float) -> str:
    return f"{int(s // 60)}:{int(s % 60):02d}"


def progress_text(fit: Fit) -> str:
    name = {"tsne": "t-SNE", "umap": "UMAP"}[fit.method]
    return (
        f"Fitting {name} on {fit.n:,} codes in the background: {_minutes(fit.elapsed_s())} of about "
        f"{_minutes(fit.expected_s())} (an estimate). The {fit.shown} map is shown meanwhile; the page "
        "switches when the fit is done, and it is then cached on disk for every session."
    )


def show_progress(fit: Fit, key: str) -> None:
    """A progress bar that follows the fit and reruns the page when the map is ready."""

    @st.fragment(run_every=1.0)
    def follow():
        if fit.future.done():
            st.rerun(scope="app")
        share = min(fit.elapsed_s() / max(fit.expected_s(), 1.0), 0.99)
        st.progress(share, text=progress_text(fit))

    with st.container(key=key):
        follow()
