"""Background training jobs: a queue, one worker, progress snapshots, cancel, one writer per file.

The app never trains in its script body: it submits a job here and polls `snapshot()`.
Jobs run one at a time on one worker thread (the machine has few cores; two trainings side
by side would each run at half speed and finish no sooner), later ones wait in the queue
with a message. A job's output path is reserved from submission to the end, so no two jobs
ever write the same file, and the checkpoint is written atomically only when training ended
normally: a cancelled or diverged job writes nothing.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .data import load_dataset
from .models import ModelConfig
from .train import TrainConfig, TrainingDiverged, build_meta, train_model

STATES = ("queued", "running", "done", "failed", "cancelled")
MAP_POINTS = 500  # validation codes kept per epoch for the live latent map


@dataclass
class Job:
    id: int
    model_config: ModelConfig
    train_config: TrainConfig
    dataset: str
    out: Path
    data_root: str | None = None
    state: str = "queued"
    message: str = ""
    step: int = 0
    total_steps: int = 0
    epoch: int = 0
    history: list = field(default_factory=list)
    codes: list | None = None  # [[z1, z2, label], ...] of a validation sample, refreshed per epoch
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


class JobManager:
    def __init__(self, protected_dirs=()):
        self._jobs: dict[int, Job] = {}
        self._queue: queue.Queue[Job] = queue.Queue()
        self._lock = threading.RLock()  # re-entrant: cancel() finishes a queued job under it
        self._ids = itertools.count(1)
        self._worker: threading.Thread | None = None
        self._protected = [Path(p).resolve() for p in protected_dirs]

    def submit(
        self, model_config: ModelConfig, train_config: TrainConfig, dataset: str, out, data_root: str | None = None
    ) -> Job:
        """Queue a job; ValueError if its output is protected or already claimed by another job."""
        out = Path(out).resolve()
        if any(out.is_relative_to(p) for p in self._protected):
            raise ValueError(f"{out.name}: shipped checkpoints are never overwritten; save under your models folder.")
        with self._lock:
            if any(j.active and j.out == out for j in self._jobs.values()):
                raise ValueError(f"{out.name} is already being written by another training job.")
            job = Job(next(self._ids), model_config, train_config, dataset, out, data_root)
            ahead = sum(j.active for j in self._jobs.values())
            job.message = f"Queued behind {ahead} job(s)." if ahead else "Starting."
            self._jobs[job.id] = job
            self._queue.put(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="vae-train-worker", daemon=True)
                self._worker.start()
        return job

    def cancel(self, job_id: int) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not job.active:
                return
            job.cancel_event.set()
            if job.state == "queued":
                self._finish(job, "cancelled", "Cancelled before it started.")

    def snapshot(self, job_id: int) -> dict | None:
        """A consistent copy of a job's public state, safe to read from any thread."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else _public(job)

    def jobs(self) -> list[dict]:
        with self._lock:
            return [_public(j) for j in sorted(self._jobs.values(), key=lambda j: -j.id)]

    def wait(self, job_id: int, timeout: float | None = None) -> dict | None:
        """Block until the job has ended (for tests and scripts)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            snap = self.snapshot(job_id)
            if snap is None or snap["state"] not in ("queued", "running"):
                return snap
            if deadline is not None and time.monotonic() > deadline:
                return snap
            time.sleep(0.05)

    def _work(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=1.0)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            if job.cancel_event.is_set():
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        with self._lock:
            job.state, job.started, job.message = "running", time.time(), "Loading data."
        try:
            train = load_dataset(job.dataset, "train", job.data_root)
            val = load_dataset(job.dataset, "val", job.data_root)
            sample = val.subset(MAP_POINTS)
            with self._lock:
                job.total_steps = job.train_config.epochs * -(-len(train) // job.train_config.batch_size)
                job.message = "Training."
            model, trainer = train_model(
                job.model_config,
                job.train_config,
                train,
                val,
                [
                    ("on_batch_end", lambda t: self._on_batch(job, t)),
                    ("on_epoch_end", lambda t: self._on_epoch(job, t, sample)),
                ],
            )
            if job.cancel_event.is_set():
                return self._finish(job, "cancelled", "Cancelled; nothing was saved.")
            from .checkpoint import save_checkpoint

            save_checkpoint(model, job.out, build_meta(job.model_config, job.train_config, job.dataset, trainer))
            self._finish(job, "done", f"Saved {job.out.name}.")
        except (TrainingDiverged, ValueError, RuntimeError, OSError) as e:
            self._finish(job, "failed", str(e))
        except Exception as e:  # a bug: report it in the job instead of killing the worker
            traceback.print_exc()
            self._finish(job, "failed", f"Unexpected error: {e}")

    def _on_batch(self, job: Job, trainer) -> None:
        if job.cancel_event.is_set():
            trainer.cancel()
        with self._lock:
            job.step, job.epoch = trainer.step, trainer.epoch

    def _on_epoch(self, job: Job, trainer, sample) -> None:
        with torch.inference_mode():
            trainer.model.eval()
            z = trainer.model.encode(sample.images).mean[:, :2]
            trainer.model.train()
        codes = torch.cat([z, sample.labels[:, None].float()], 1).tolist()
        with self._lock:
            job.history = list(trainer.history)
            job.codes = codes

    def _finish(self, job: Job, state: str, message: str) -> None:
        with self._lock:
            job.state, job.message, job.finished = state, message, time.time()


def _public(job: Job) -> dict:
    return {
        "id": job.id,
        "state": job.state,
        "message": job.message,
        "step": job.step,
        "total_steps": job.total_steps,
        "epoch": job.epoch,
        "epochs": job.train_config.epochs,
        "history": list(job.history),
        "codes": job.codes,
        "out": str(job.out),
        "dataset": job.dataset,
        "kind": job.model_config.kind,
        "latent_dim": job.model_config.latent_dim,
        "submitted": job.submitted,
        "started": job.started,
        "finished": job.finished,
    }
