"""Background training jobs: a queue, one worker, progress snapshots, cancel, one writer per file.

The app never trains in its script body: it submits a job here and polls `snapshot()`.
Jobs run one at a time on one worker thread (the machine has few cores; two trainings side
by side would each run at half speed and finish no sooner), later ones wait in the queue
with a message. A job's output path is checked (writable, a file name that fits) and reserved
at submission, so no two jobs ever write the same file, and the checkpoint is written
atomically only when training ended normally: a cancelled or diverged job writes nothing.
Each job belongs to whoever submitted it (an opaque `owner` token: the app passes a per-browser
id, so a refresh keeps the job its owner's): everyone sees the whole server's list, only the
owner may cancel. A snapshot carries the job's recipe (to refill a form after a refresh) and
`saved`, the file written, which stays None for a cancelled or failed job (nothing was
written), with elapsed time, samples/s, an ETA and the training film's frames so far
(vae_core.training.film).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..data.catalog import FOLDER_PREFIX
from ..io.paths import check_output_path
from ..model.config import ModelConfig
from ..training.config import TrainConfig
from ..training.device import resolve_device
from ..training.film import Film
from ..training.trainer import TrainingDiverged
from .run import RunSpec, TrainingRun

STATES = ("queued", "running", "done", "failed", "cancelled")


@dataclass
class Job:
    id: int
    model_config: ModelConfig
    train_config: TrainConfig
    dataset: str
    out: Path
    data_root: str | None = None
    owner: str | None = None  # opaque token of the submitter (the app: a per-browser id); only it may cancel
    state: str = "queued"
    message: str = ""
    step: int = 0
    total_steps: int = 0
    epoch: int = 0
    samples_per_s: float = 0.0  # measured over the steps so far
    history: list = field(default_factory=list)
    codes: list | None = None  # [[z1, z2, label], ...] of the film's images, refreshed per epoch
    film: Film | None = None
    device: str = ""  # where it trains, once started (the config may say "auto")
    saved: Path | None = None  # the checkpoint, once written
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    training_started: float | None = None  # after data loading: the clock for samples/s and the ETA
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
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        dataset: str,
        out,
        data_root: str | None = None,
        owner: str | None = None,
    ) -> Job:
        """Queue a job; ValueError if its output is protected, unwritable or claimed by another job, or
        if the same owner already has the same training queued or running."""
        out = Path(out).resolve()
        if any(out.is_relative_to(p) for p in self._protected):
            raise ValueError(f"{out.name}: shipped checkpoints are never overwritten; save under your models folder.")
        check_output_path(out)
        with self._lock:
            if any(j.active and j.out == out for j in self._jobs.values()):
                raise ValueError(f"{out.name} is already being written by another training job.")
            twin = next(
                (
                    j
                    for j in self._jobs.values()
                    if owner is not None
                    and j.active
                    and j.owner == owner
                    and (j.model_config, j.train_config, j.dataset) == (model_config, train_config, dataset)
                ),
                None,
            )
            if twin is not None:  # a double click, or Enter then the button: one job, not two
                raise ValueError(
                    f"The same training is already {twin.state} (job {twin.id}); change a setting to "
                    "train another model, or cancel that one first."
                )
            job = Job(next(self._ids), model_config, train_config, dataset, out, data_root, owner)
            ahead = sum(j.active for j in self._jobs.values())
            job.message = f"Queued behind {ahead} job(s)." if ahead else "Starting."
            self._jobs[job.id] = job
            self._queue.put(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="vae-train-worker", daemon=True)
                self._worker.start()
        return job

    def cancel(self, job_id: int, owner: str | None = None) -> bool:
        """Stop a queued or running job: True if it was asked to stop. Only its owner may cancel
        it (a job submitted without an owner may be cancelled by anyone); False otherwise."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not job.active or (job.owner is not None and owner != job.owner):
                return False
            job.cancel_event.set()
            if job.state == "queued":
                self._finish(job, "cancelled", "Cancelled before it started.")
            return True

    def snapshot(self, job_id: int, viewer: str | None = None) -> dict | None:
        """A consistent copy of a job's public state, safe to read from any thread.
        `viewer`: a session token; the snapshot's "own" says whether that session may cancel it."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else _public(job, viewer)

    def jobs(self, viewer: str | None = None) -> list[dict]:
        """Every job on this server, newest first: queued, running, done, failed and cancelled."""
        with self._lock:
            return [_public(j, viewer) for j in sorted(self._jobs.values(), key=lambda j: -j.id)]

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
            run = self._train(job)
            if job.cancel_event.is_set():
                return self._finish(job, "cancelled", "Cancelled; nothing was saved.")
            run.save()
            with self._lock:
                job.saved = job.out
            self._finish(job, "done", f"Saved {job.out.name}.")
        except (TrainingDiverged, ValueError, RuntimeError, OSError) as e:
            self._finish(job, "failed", str(e))
        except Exception as e:  # a bug: report it in the job instead of killing the worker
            traceback.print_exc()
            self._finish(job, "failed", f"Unexpected error: {e}")

    def _train(self, job: Job) -> TrainingRun:
        cfg = job.train_config
        device = resolve_device(cfg.device)
        with self._lock:
            job.device = str(device)
        # the film's images also feed the live map, so there is a Film even when no frame is kept
        c, side, _ = job.model_config.image_shape
        form = {"image_size": side, "channels": c} if job.dataset.startswith(FOLDER_PREFIX) else {}  # as the model's
        spec = RunSpec(job.model_config, cfg, job.dataset, job.out, job.data_root, live_codes=True, **form)
        run = TrainingRun(spec, device=device)
        run.load()
        film = run.film
        with self._lock:
            job.total_steps = run.total_steps
            job.message, job.training_started = "Training.", time.time()
            job.film = film if film.keep else None
        callbacks = [
            ("on_batch_end", lambda t: self._on_batch(job, t)),
            ("on_epoch_end", lambda t: self._on_epoch(job, t, film)),
        ]
        run.train(callbacks)
        return run

    def _on_batch(self, job: Job, trainer) -> None:
        if job.cancel_event.is_set():
            trainer.cancel()
        with self._lock:
            job.step, job.epoch = trainer.step, trainer.epoch
            seconds = time.time() - job.training_started
            job.samples_per_s = trainer.step * job.train_config.batch_size / seconds if seconds > 0 else 0.0

    def _on_epoch(self, job: Job, trainer, film: Film) -> None:
        z = film.frame_at(trainer.epoch)
        if z is None:  # not a film frame this epoch: the live map still shows this epoch's codes
            z = film.encode(trainer.model)
        codes = [[*row[:2], label] for row, label in zip(z.float().tolist(), film.labels.tolist(), strict=True)]
        with self._lock:
            job.history = list(trainer.history)
            job.codes = codes

    def _finish(self, job: Job, state: str, message: str) -> None:
        with self._lock:
            job.state, job.message, job.finished = state, message, time.time()


def _timing(job: Job) -> dict:
    """Elapsed seconds since the job started, samples/s and the ETA (None until it can be estimated)."""
    end = job.finished or time.time()
    elapsed = end - job.started if job.started else 0.0
    eta = None
    if job.state == "running" and job.step and job.training_started:
        per_step = (end - job.training_started) / job.step
        eta = per_step * (job.total_steps - job.step)
    elif job.state == "done":
        eta = 0.0
    return {"elapsed_s": elapsed, "eta_s": eta, "samples_per_s": job.samples_per_s}


def _public(job: Job, viewer: str | None = None) -> dict:
    film_codes, film_epochs = job.film.frames() if job.film is not None else (None, [])
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
        "film_codes": film_codes,  # float16 [E, M, D] tensor, shared and read-only; None before frame 0
        "film_epochs": film_epochs,
        "film_labels": job.film.labels if job.film is not None else None,
        "out": str(job.out),
        "saved": str(job.saved) if job.saved else None,
        "dataset": job.dataset,
        "kind": job.model_config.kind,
        "latent_dim": job.model_config.latent_dim,
        "beta": job.model_config.beta,
        "image_shape": tuple(job.model_config.image_shape),  # an image folder's form: the app names its data by it
        "recipe": asdict(job.train_config),  # the training settings it was submitted with
        "device": job.device or job.train_config.device,
        "own": job.owner is not None and viewer == job.owner,
        "submitted": job.submitted,
        "started": job.started,
        "finished": job.finished,
        **_timing(job),
    }
