"""The ELBO page's report for one (model, image), computed in the background, with progress.

vae_core.analysis.elbo.elbo_report takes about 0.5-2 s of CPU for one z = 2 image (more while
other work shares the cores): long enough that computing it in the script body would freeze the
page for every click through the images. So one server-wide worker thread computes reports, a
page asks for one and follows its progress (the report's own progress callback, stage by stage),
and a finished report is kept, keyed by the model file's version and the image's identity, for
every session (reports are plain floats and numpy arrays, a few hundred kB each).

A request no session waits for any more (the user picked another image before it started) is
dropped before it runs: clicking through ten images runs the one in progress and the last.
This is its own small runner, not ui/services/fitting.py's: a fit is minutes and never dropped.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from ui.services.models import ModelRef

KEEP = 64  # finished reports kept for the server (LRU): each is a few hundred kB
SEED = 0  # one seed for every report: the same image gives the same numbers in every session
SETTINGS = None  # the report's sizes (vae_core.analysis.elbo.ElboSettings); None: the engine's defaults
ONNX_NOTE = (
    "This model is an ONNX graph run by onnxruntime: the ELBO page needs gradients through the decoder "
    "(the gradient-variance comparison and fitting q*), and a graph gives none, so the page is for "
    "PyTorch models."
)


@dataclass
class Job:
    """One report being computed: progress as the engine reports it, waiting sessions, the future."""

    key: tuple
    future: Future | None = None
    done: int = 0
    total: int = 0
    stage: str = "queued"
    started: float = field(default_factory=time.monotonic)
    waiters: int = 0

    def progress(self, done: int, total: int, stage: str) -> None:
        """elbo_report's callback (called on the worker thread; plain attribute writes)."""
        self.done, self.total, self.stage = done, total, stage

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 0.0


@st.cache_resource(show_spinner=False)
def _runner() -> tuple[ThreadPoolExecutor, OrderedDict, threading.Lock]:
    """One worker thread and the jobs it knows, finished ones last-used last, for the whole server.
    One thread: reports are CPU-bound and the machine has few cores; a queue is drained in order."""
    return ThreadPoolExecutor(1, thread_name_prefix="elbo"), OrderedDict(), threading.Lock()


def key(ref: ModelRef, image_id: str, settings=None) -> tuple:
    """What identifies a report: the model file at its version, the image, the report's sizes."""
    return (ref.file, image_id, repr(settings))


def request(ref: ModelRef, image_id: str, model, x: np.ndarray, settings=None) -> Job:
    """The job for this (model, image): the finished one, the one running, or a new one queued.
    `x` is the image [C, H, W] or [1, C, H, W] in [0, 1]; `image_id` must name it uniquely."""
    pool, jobs, lock = _runner()
    k = key(ref, image_id, settings)
    with lock:
        job = jobs.get(k)
        if job is None or job.future.cancelled():
            job = Job(k)
            image = np.array(x, dtype=np.float32, copy=True)  # the worker owns its copy
            job.future = pool.submit(_compute, job, model, image, settings)
            jobs[k] = job
        jobs.move_to_end(k)
        _trim(jobs)
        return job


def _compute(job: Job, model, x: np.ndarray, settings):
    """On the worker thread: the report (Streamlit is never called from here)."""
    import torch

    from vae_core.analysis.elbo import elbo_report

    job.started = time.monotonic()
    job.stage = "starting"
    return elbo_report(model, torch.from_numpy(x), seed=SEED, settings=settings, progress=job.progress)


def _trim(jobs: OrderedDict) -> None:
    """Drop the least recently asked-for finished reports beyond KEEP (never a running one)."""
    finished = [k for k, j in jobs.items() if j.future.done()]
    for k in finished[: max(0, len(finished) - KEEP)]:
        del jobs[k]


def follow(session: dict, job: Job) -> None:
    """This session now waits for `job`: the one it waited for before is released, and dropped
    if it has not started and nobody else waits for it."""
    previous = session.get("_elbo_job")
    if previous == job.key:
        return
    pool, jobs, lock = _runner()
    with lock:
        job.waiters += 1
        old = jobs.get(previous) if previous is not None else None
        if old is not None:
            old.waiters = max(0, old.waiters - 1)
            if old.waiters == 0 and old.future.cancel():
                del jobs[previous]
    session["_elbo_job"] = job.key


def result(job: Job):
    """(report, None) once done, or (None, one line) when the engine refused the image or model:
    its ValueErrors are one line for a person (a wrong shape, a non-finite likelihood, a grid that
    did not settle); anything else is reported by its first line, never as a traceback."""
    try:
        return job.future.result(timeout=0), None
    except ValueError as e:
        return None, str(e)
    except Exception as e:  # noqa: BLE001 - a page shows one line, whatever the engine raised
        first = (str(e).splitlines() or [type(e).__name__])[0]
        return None, f"The report could not be computed: {first}"


def wait_all(timeout: float | None = None) -> bool:
    """Tests and the bench: wait until every known job has finished; True if they all did."""
    from concurrent.futures import wait

    _, jobs, lock = _runner()
    with lock:
        futures = [j.future for j in jobs.values()]
    return not wait(futures, timeout=timeout).not_done


def clear() -> None:
    """Forget every finished report (tests)."""
    _, jobs, lock = _runner()
    with lock:
        for k in [k for k, j in jobs.items() if j.future.done()]:
            del jobs[k]
