"""What a page shows while background work runs (ui/services/tasks): what is happening, a bar,
time so far and left, an estimate that says where it comes from (and when it was wrong), and a
Cancel button. The bar follows the task once a second in a fragment and reruns the page when
the task is over."""

from __future__ import annotations

import time

import streamlit as st

from ui.services import tasks

STAGES = {"encode": "images encoded", "fit": "iterations", "place": "codes placed", "generate": "generated"}


def _clock(s: float) -> str:
    s = max(0.0, s)
    if s >= 3600:
        return f"{int(s // 3600)}:{int(s % 3600 // 60):02d}:{int(s % 60):02d}"
    return f"{int(s // 60)}:{int(s % 60):02d}"


def share(task: tasks.Task) -> float:
    """The bar's fill: the work's own progress where it reports it, else time against the estimate."""
    if task.total > 1 and task.done:
        return min(task.done / task.total, 0.99)
    if task.estimate_s:
        return min(task.elapsed_s() / task.estimate_s, 0.99)
    return 0.0


def describe(task: tasks.Task, meanwhile: bool = False) -> str:
    """One paragraph for a person: what, how far, how long (and how we know)."""
    words = [f"{task.title}."]
    if task.state == "waiting":
        busy = any(t.lane == task.lane and t.state == "running" for t in list(tasks.board().tasks.values()))
        if task.not_before > time.monotonic():
            words.append("Starting once the setting stays put…")
        else:
            words.append("Queued behind other work on this server…" if busy else "Starting…")
    else:
        if task.total > 1:
            words.append(f"{task.done:,} of {task.total:,} {STAGES.get(task.stage, task.stage)};")
        words.append(f"{_clock(task.elapsed_s())} so far,")
        words.append(_left(task))
    if task.note:
        words.append(f"({task.note[0].upper() + task.note[1:]}.)")
    if meanwhile:
        words.append("The last good map is shown meanwhile; this page switches when the new one is ready.")
    return " ".join(words)


def _left(task: tasks.Task) -> str:
    elapsed, est = task.elapsed_s(), task.estimate_s
    where = "measured on this machine's last runs" if task.measured else "a first guess until this machine has run one"
    if task.total > 1 and task.done / task.total > 0.05 and task.stage != "fit" or _iterating(task):
        left = elapsed * (task.total - task.done) / max(task.done, 1)
        return f"about {_clock(left)} left for this stage at its pace so far."
    if est is None:
        return "no estimate yet."
    if elapsed > 1.1 * est:
        return f"longer than the estimate of {_clock(est)} ({where}); it will be corrected by this run."
    return f"about {_clock(est)} in all ({where})."


def _iterating(task: tasks.Task) -> bool:
    return task.stage == "fit" and task.total > 1 and task.done / task.total > 0.05


def follow(task: tasks.Task, key: str, meanwhile: bool = False) -> None:
    """The bar, the words and a Cancel button; reruns the whole page when the task is over."""

    @st.fragment(run_every=1.0)
    def bar():
        if task.over:
            st.rerun(scope="app")
        st.progress(share(task), text=describe(task, meanwhile))
        if st.button("Cancel", key=f"{key}_cancel", help="Stop this work (nothing half-done is kept)."):
            cancelled().add(task.key)
            tasks.board().cancel(task.key)
            st.rerun(scope="app")

    with st.container(key=key):
        bar()


def cancelled() -> set:
    """Work this session cancelled: not asked for again until the user says so."""
    return st.session_state.setdefault("_tasks_cancelled", set())


def stopped_note(what: str, key: str) -> bool:
    """A line saying the work was cancelled and the last good map is shown; True when the user asks again."""
    c1, c2 = st.columns([5, 1])
    c1.info(f"{what}; the last good map is shown.")
    return c2.button("Fit again", key=key)


def failed(task: tasks.Task, what: str) -> None:
    st.warning(f"{what}: {task.error}")
    tasks.board().forget(task.key)


def wait(task: tasks.Task) -> None:
    """For a page that cannot draw anything until `task` is over (explorer.py, on tasks.Pending)."""
    if task.state == "failed":
        failed(task, "This could not be done")
        return
    if task.state == "cancelled":
        st.info(f"Stopped: {task.title[0].lower() + task.title[1:]}.")
        if st.button("Start it again", key="task_again"):
            cancelled().discard(task.key)
            tasks.board().forget(task.key)
            st.rerun()
        return
    follow(task, key="task_wait")
