"""torchrun ranks never wait forever: a missing peer, a dead one, a stalled one, SIGTERM while
waiting and nonsense rank variables each end the rank with one line, in bounded time, nothing saved.

The ranks are started by hand (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), as torchrun would
start them, so the test can remove, kill or freeze one of them.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from support import ROOT

from vae_core.training import distributed

ARGS = ["--dataset", "digits", "--latent-dim", "2", "--hidden", "16", "--film-frames", "0", "--precision", "fp32"]
BOUND_S = 90  # every failure below must end well within this, on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_rank(rank: int, size: int, port: int, out, *extra, env_extra=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WORLD_SIZE": str(size), "RANK": str(rank),
           "LOCAL_RANK": str(rank), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}  # fmt: skip
    cmd = [sys.executable, "-m", "vae_core.train", *ARGS, *extra, "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**env, **(env_extra or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    proc.log = StderrLog(proc)
    return proc


class StderrLog:
    """A rank's stderr, read as it comes by a thread (tqdm writes \r-separated updates, no newlines)."""

    def __init__(self, proc):
        self.proc, self.chunks = proc, []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while chunk := os.read(self.proc.stderr.fileno(), 4096):
            self.chunks.append(chunk)

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")

    def wait_for(self, text: str, timeout: float = BOUND_S) -> None:
        end = time.monotonic() + timeout
        while text not in self.text:  # waits on the rank's own output, not on a clock
            assert time.monotonic() < end and self.proc.poll() is None, self.text[-2000:]
            time.sleep(0.05)

    def finish(self, timeout: float = BOUND_S) -> str:
        self.proc.wait(timeout=timeout)
        self.thread.join(timeout=10)
        return self.text


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("error:")]


def assert_one_error_line(stderr: str, *words):
    assert "Traceback" not in stderr and "frame #" not in stderr, stderr[-3000:]
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr[-3000:]
    for w in words:
        assert w in lines[0], lines[0]


def test_a_missing_peer_ends_the_wait_with_one_line(tmp_path):
    rank0 = start_rank(0, 2, free_port(), tmp_path / "m.safetensors", "--dist-timeout", "2")
    err = rank0.log.finish()
    assert rank0.returncode == 2
    assert "rank 0 of 2: waiting up to 2 s for all 2 processes" in err  # says what it waits for
    assert_one_error_line(err, "rank 0 of 2", "within 2 s")
    assert not list(tmp_path.iterdir())


def test_sigterm_ends_a_rank_waiting_for_its_peers(tmp_path):
    rank0 = start_rank(0, 2, free_port(), tmp_path / "s.safetensors", "--dist-timeout", "600")
    rank0.log.wait_for("SIGTERM stops the wait")
    rank0.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    err = rank0.log.finish()
    assert rank0.returncode == 128 + signal.SIGTERM and time.monotonic() - t0 < 30
    assert_one_error_line(err, "terminated by SIGTERM")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("how", ["dies", "stalls"])
def test_a_peer_that_dies_or_stalls_ends_the_other_rank_with_one_line_and_no_checkpoint(tmp_path, how):
    port, out = free_port(), tmp_path / "d.safetensors"
    ranks = [start_rank(r, 2, port, out, "--epochs", "5000", "--dist-timeout", "5") for r in (0, 1)]
    try:
        ranks[0].log.wait_for("epoch=2")  # training, past the rendezvous
        ranks[1].send_signal(signal.SIGKILL if how == "dies" else signal.SIGSTOP)
        err = ranks[0].log.finish()  # within BOUND_S, or the test fails
        assert ranks[0].returncode == 2
        assert_one_error_line(err, "rank 0 of 2", "exchange with the other processes failed", "nothing was saved")
        assert not list(tmp_path.iterdir())  # no checkpoint, no temporary file
    finally:
        for p in ranks:
            p.kill()
            p.wait()


@pytest.mark.parametrize(
    "env",
    [
        {"WORLD_SIZE": "two"},
        {"WORLD_SIZE": "2", "RANK": "-1"},
        {"WORLD_SIZE": "2", "RANK": "2"},
        {"WORLD_SIZE": "0"},
        {"WORLD_SIZE": "9" * 5000},
        {"WORLD_SIZE": "99999999999"},
        {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "x" * 10_000},
        {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "7"},
    ],
)
def test_nonsense_rank_variables_are_one_line_naming_them(env):
    with pytest.raises(ValueError) as e:
        distributed.world_from_env(env)
    message = str(e.value)
    assert "\n" not in message and len(message) < 400 and "WORLD_SIZE" in message


def test_a_garbage_master_port_ends_the_command_with_one_line(tmp_path):
    env = {"WORLD_SIZE": "2", "RANK": "0", "MASTER_PORT": "not-a-port"}
    rank = start_rank(0, 2, 0, tmp_path / "g.safetensors", "--dist-timeout", "2", env_extra=env)
    err = rank.log.finish()
    assert rank.returncode == 2
    assert_one_error_line(err, "rank 0 of 2")
    assert not list(tmp_path.iterdir())
