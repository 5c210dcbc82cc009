"""Long work off the page: encodings and map fits run on server threads, followed by the pages.

Encoding a million images or fitting a t-SNE takes minutes on two cores; a page that waits for
it is a page that looks frozen (issue 17.7, 17.8). Work goes on a board shared by every session
of the server (two tabs asking for the same thing share one run), one thread per lane ("encode",
"fit": a fit needs codes, an encode must not queue behind a fit), and pages follow it:

- **dedupe**: one task per key (what it computes); a finished one is kept until it is read.
- **debounce**: a task starts `delay_s` after it was asked for; a newer request in the same
  `group` (e.g. the perplexity slider of one model's t-SNE) replaces a waiting one and stops a
  running one, so arrow-key steps on a slider start one fit, not one per step.
- **cancel**: work reads `task.should_stop()` between steps (batches, iterations) and raises
  vae_core's Cancelled; nothing is stored then.
- **estimates**: how long each kind of work took here (seconds per 1,000 units, the last few
  runs; the work records its own stages) is kept in the app's cache (timings.json), so an
  estimate is this machine's, and says whether it is measured or a default.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ui import settings

LANES = ("encode", "fit")
KEEP_TIMINGS = 12  # runs remembered per kind


@dataclass(eq=False)
class Task:
    key: tuple  # what it computes
    group: tuple  # requests that supersede each other
    lane: str
    title: str  # what is happening, for a person ("Encoding 1,000,000 images under vae-z16")
    work: Callable[[Task], Any]  # runs on the lane's thread; returns the result
    not_before: float  # time.monotonic() when it may start (the debounce)
    state: str = "waiting"  # waiting, running, done, failed, cancelled
    stage: str = ""  # what the work reports it is doing ("fit", "place", "encode")
    done: int = 0
    total: int = 0
    asked: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    result: Any = None
    error: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    estimate_s: float | None = None  # seconds the whole task should take here
    measured: bool = False  # the estimate comes from runs on this machine (not a default)
    note: str = ""  # one more line for the page (how the work is done)

    def should_stop(self) -> bool:
        return self.stop.is_set()

    def report(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, int(done), int(total)

    def elapsed_s(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed", "cancelled")


class Pending(Exception):
    """A page needs what `task` computes before it can go on: explorer.py shows the task's
    progress (ui/components/progress.py) and stops the run; the page reruns when it is over."""

    def __init__(self, task: Task):
        super().__init__(task.title)
        self.task = task


class Board:
    """The server's tasks, one worker thread per lane."""

    def __init__(self):
        self.tasks: dict[tuple, Task] = {}
        self.wake = threading.Condition()
        for lane in LANES:
            threading.Thread(target=self._serve, args=(lane,), name=f"vae-explorer-{lane}", daemon=True).start()

    def submit(self, key, group, lane: str, title: str, work, delay_s: float = 0.0) -> Task:
        """The task for `key`: the one there is (unless it failed or was cancelled) or a new one,
        which supersedes the other requests of its group."""
        with self.wake:
            found = self.tasks.get(key)
            if found is not None and found.state not in ("failed", "cancelled"):
                return found
            for other in self.tasks.values():
                if other.group == group and other.key != key and not other.over:
                    self._cancel(other, "superseded by a newer request")
            task = self.tasks[key] = Task(key, group, lane, title, work, time.monotonic() + delay_s)
            self.wake.notify_all()
            return task

    def cancel(self, key) -> None:
        with self.wake:
            task = self.tasks.get(key)
            if task is not None and not task.over:
                self._cancel(task, "cancelled")
            self.wake.notify_all()

    def forget(self, key) -> None:
        with self.wake:
            task = self.tasks.get(key)
            if task is not None and task.over:
                del self.tasks[key]

    def get(self, key) -> Task | None:
        return self.tasks.get(key)

    def _cancel(self, task: Task, why: str) -> None:
        task.stop.set()
        if task.state == "waiting":
            task.state, task.error, task.finished = "cancelled", why, time.monotonic()

    def _next(self, lane: str) -> Task | None:
        """The oldest waiting task of `lane` whose debounce has passed (waits for one)."""
        with self.wake:
            while True:
                now = time.monotonic()
                waiting = [t for t in self.tasks.values() if t.lane == lane and t.state == "waiting"]
                ready = [t for t in waiting if t.not_before <= now]
                if ready:
                    task = min(ready, key=lambda t: t.asked)
                    task.state, task.started = "running", now
                    return task
                soonest = min((t.not_before for t in waiting), default=now + 60) - now
                self.wake.wait(timeout=max(0.05, soonest))

    def _serve(self, lane: str) -> None:
        from vae_core.analysis.cancel import Cancelled

        while True:
            task = self._next(lane)
            try:
                result = task.work(task)
                state, error = ("cancelled", "cancelled") if task.should_stop() else ("done", "")
            except Cancelled:
                result, state, error = None, "cancelled", "cancelled"
            except Exception as e:  # one line for the page; the lane keeps serving
                result, state, error = None, "failed", f"{type(e).__name__}: {e}"[:300]
            with self.wake:
                task.result, task.state, task.error, task.finished = result, state, error, time.monotonic()


def stopped(key, title: str) -> Task:
    """A cancelled task the board no longer holds (for a page that says so and offers a restart)."""
    return Task(key, key, "", title, lambda task: None, 0.0, state="cancelled", error="cancelled")


@st.cache_resource(show_spinner=False)
def board() -> Board:
    return Board()


# --- estimates measured here ----------------------------------------------------------------


def _timings_path():
    return settings.cache_dir("timings.json")


def _timings() -> dict:
    try:
        raw = json.loads(_timings_path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {k: [float(r) for r in v if isinstance(r, int | float) and 0 < r < 1e6][-KEEP_TIMINGS:]
            for k, v in raw.items() if isinstance(k, str) and isinstance(v, list)}  # fmt: skip


_timings_lock = threading.Lock()


def record(kind: str, units: int, seconds: float) -> None:
    """Remember that `units` of `kind` took `seconds` here (a rate per 1,000 units)."""
    if units <= 0 or seconds <= 0:
        return
    with _timings_lock:
        table = _timings()
        table[kind] = [*table.get(kind, []), 1000 * seconds / units][-KEEP_TIMINGS:]
        try:
            path = _timings_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(table))
            tmp.replace(path)
        except OSError:
            pass  # a read-only cache: estimates fall back to the defaults


def seconds_per_1k(kind: str, default: float) -> tuple[float, bool]:
    """(seconds per 1,000 units of `kind`, measured here?): the median of the last runs, else `default`."""
    runs = sorted(_timings().get(kind, []))
    if not runs:
        return default, False
    return runs[len(runs) // 2], True
