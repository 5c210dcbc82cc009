"""Long work off the page (ui/services/tasks, fitting, latents): debounced, cancellable fits and
encodings that the page follows while it shows the last good map (issue 17.7, 17.8)."""

import threading
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from support import ROOT

from ui.frame import probe
from ui.services import tasks
from vae_core.analysis import manifold
from vae_core.analysis.cancel import Cancelled

WAIT_S = 300  # generous: a busy 2-core machine is slow, not wrong


def until(predicate, what: str):
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def board():
    return tasks.Board()  # a fresh board per test (the app's is one per server)


def test_requests_in_one_group_are_debounced_and_only_the_newest_runs(board):
    ran = []

    def work(p):
        return lambda task: ran.append(p) or p

    got = [board.submit(("fit", p), ("fit",), "fit", f"fit {p}", work(p), delay_s=0.5) for p in (30, 31, 32)]
    until(lambda: got[-1].over, "the newest fit")
    assert ran == [32] and got[-1].result == 32
    assert [t.state for t in got[:2]] == ["cancelled", "cancelled"]  # arrow-key steps never started a fit
    assert board.submit(("fit", 32), ("fit",), "fit", "again", work(99)) is got[-1]  # done: read, not redone


def test_a_running_task_stops_when_cancelled_or_superseded(board):
    started = threading.Event()

    def slow(task):
        started.set()
        while True:
            if task.should_stop():
                raise Cancelled("stopped")
            time.sleep(0.01)

    first = board.submit(("fit", 1), ("fit",), "fit", "slow", slow)
    started.wait(WAIT_S)
    board.cancel(("fit", 1))
    until(lambda: first.over, "the cancel")
    assert first.state == "cancelled" and first.result is None
    started.clear()
    second = board.submit(("fit", 2), ("fit",), "fit", "slow", slow)
    started.wait(WAIT_S)
    third = board.submit(("fit", 3), ("fit",), "fit", "quick", lambda task: "done")
    until(lambda: third.over, "the newer request")
    assert second.state == "cancelled" and third.result == "done"


def test_a_failing_task_reports_one_line_and_the_lane_keeps_serving(board):
    bad = board.submit(("x",), ("x",), "encode", "bad", lambda task: 1 / 0)
    until(lambda: bad.over, "the failure")
    good = board.submit(("y",), ("y",), "encode", "good", lambda task: 7)
    until(lambda: good.over, "the next task")
    assert bad.state == "failed" and bad.error.startswith("ZeroDivisionError") and good.result == 7


def test_estimates_are_this_machines_once_it_has_run_one(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path))
    assert tasks.seconds_per_1k("tsne-fit", 17.4) == (17.4, False)
    for s in (10.0, 30.0, 20.0):
        tasks.record("tsne-fit", 1000, s)
    assert tasks.seconds_per_1k("tsne-fit", 17.4) == (20.0, True)
    (tmp_path / "timings.json").write_text("{not json")
    assert tasks.seconds_per_1k("tsne-fit", 17.4) == (17.4, False)  # a broken file is no estimate


# --- in the app: the map shows the last good projection while a fit runs in the background ---


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_USER_MODELS", str(tmp_path / "user_models"))
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_EXPLORER_LIVEMAP", "0")
    gate = threading.Event()
    fits = []

    def fake_tsne(x, perplexity, seed, progress, should_stop):  # a t-SNE that waits for the test
        fits.append(perplexity)
        progress("fit", 0, 10)
        while not gate.wait(0.02):
            if should_stop():
                raise Cancelled("stopped")
        return (x[:, :2] * perplexity).astype(np.float32)

    monkeypatch.setattr(manifold, "fit_tsne", fake_tsne)
    return gate, fits


def shown(at):
    return probe.read(at, "map_method_shown")


def settle(at, predicate, what):
    deadline = time.monotonic() + WAIT_S
    while True:
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        if predicate(at):
            return at
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


def method_control(at):
    return at.segmented_control(key=next(k for k in at.session_state if str(k).endswith("_method")))


def perplexity(at):
    return at.slider(key=next(k for k in at.session_state if str(k).endswith("_perp")))


def fitting_text(at) -> str:
    return " ".join(p.proto.text for p in at.get("progress"))


def test_a_tsne_fit_runs_in_the_background_while_the_last_good_map_is_shown(app_env, monkeypatch):
    from ui.services import fitting

    gate, fits = app_env
    monkeypatch.setattr(fitting, "DEBOUNCE_S", 10.0)  # far longer than three reruns, even on a busy machine
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=180).run()
    assert shown(at) == "native"
    method_control(at).set_value("tsne").run()
    assert shown(at) == "tsne" and not at.get("progress")  # the shipped perplexity-30 map, from disk
    for p in (31, 32, 33):  # arrow-key steps, each a rerun
        perplexity(at).set_value(p).run()
        assert not at.exception and shown(at) == "tsne"  # the last good map (perplexity 30) meanwhile
        assert f"Fitting t-SNE (perplexity {p})" in fitting_text(at)
    assert fits == []  # still settling: no fit started for 31 or 32, nor yet for 33
    gate.set()
    settle(at, lambda at: not at.get("progress"), "the perplexity-33 map")
    assert fits == [33.0] and shown(at) == "tsne"


def test_a_cancelled_fit_is_not_started_again_until_asked(app_env, monkeypatch):
    from ui.services import fitting

    gate, fits = app_env
    monkeypatch.setattr(fitting, "DEBOUNCE_S", 0.0)
    at = AppTest.from_file(str(ROOT / "explorer.py"), default_timeout=180).run()
    method_control(at).set_value("tsne").run()
    perplexity(at).set_value(41).run()
    settle(at, lambda at: fits == [41.0], "the fit to start")
    at.button(key=next(b.key for b in at.button if b.key and b.key.endswith("_cancel"))).click().run()
    settle(at, lambda at: any("cancelled" in i.value for i in at.info), "the cancel")
    assert shown(at) == "tsne" and fits == [41.0] and not at.get("progress")
    at.run()
    assert fits == [41.0]  # not restarted by a rerun
    at.button(key="fit_again_tsne").click().run()
    gate.set()
    settled = lambda at: not at.get("progress") and not any("cancelled" in i.value for i in at.info)  # noqa: E731
    settle(at, settled, "the fit asked for again")
    assert fits == [41.0, 41.0]
