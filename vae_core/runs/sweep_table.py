"""The β-sweep table: one row per finished checkpoint in a sweep folder, as sweep.csv and sweep.json.

Columns (sweep_rows.COLUMNS): β, latent size, seed, rate = KL(q(z|x) ‖ p(z)) and distortion =
−E_q[log p(x|z)] (Alemi et al. 2018: −ELBO = rate + distortion, in nats per image), −ELBO, the
IW-NLL with K importance samples (Burda et al. 2016), what those likelihoods are ("likelihood":
grey-level cross-entropy, or binarised NLL for a --binarize dynamic model), active units, kNN
accuracy of the latent means, and sample quality (the share of N(0, I) samples the shipped classifier names, and the
entropy of their classes) — all on the validation split of the data set the model was trained on.

The table is rebuilt from the folder, not from one run's grid: two sweeps writing into one folder
(one after the other, or at once) both keep all their points in it. Writes are atomic and made
under a lock on the folder; reading is sweep_rows.read_table, which trusts nothing in the file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..analysis.metrics import evaluate
from ..analysis.quality import sample_quality as judge
from ..data import load_dataset
from ..data.binarize import binarized_once, likelihood_label
from ..io.atomic import atomic_write
from ..io.checkpoint import load_checkpoint
from ..io.classifier_file import classifier_for, load_classifier
from ..io.header import CheckpointError, printable, read_meta
from ..io.jsonable import finite_or_none
from ..model.config import MAX_IW_SAMPLES
from ..model.estimators import IW_ESTIMATOR, NonFiniteEstimate
from .sweep_rows import COLUMNS, MAX_TEXT, TABLE_NAME, SweepRows, read_table, row_problem

__all__ = ["COLUMNS", "SweepRows", "Table", "read_table"]
CLASSIFIERS = Path(__file__).resolve().parents[2] / "checkpoints" / "classifiers"  # the shipped judges
N_JUDGED = 2000  # prior samples per model: ±1 % on a share near 10 %
LOCK_NAME = ".sweep.lock"  # hidden: the registry and the table's own listing skip it
LOCK_WAIT_S = 30.0  # longest wait for another sweep's table write (which takes a second or two)


@dataclass(frozen=True)
class GridPoint:
    beta: float  # KL weight
    latent_dim: int  # D
    seed: int  # training seed


def sample_quality(model, meta: dict, classifiers=CLASSIFIERS) -> tuple[float | None, float | None]:
    """How the model's prior samples x = decode(z), z ~ N(0, I), fare with the digit classifier
    shipped for its data set (vae_core.quality): the share it names with confidence >= 0.5, and
    the entropy of the classes it sees (log 10 = 2.30: all classes equally). (None, None) where
    no classifier fits the data set or the image size."""
    path = classifier_for(meta.get("dataset", ""), classifiers)
    if path is None:
        return None, None
    classifier, _ = load_classifier(path)
    if tuple(classifier.image_shape) != tuple(model.config.image_shape):
        return None, None
    z = torch.randn(N_JUDGED, model.config.latent_dim, generator=torch.Generator().manual_seed(0))
    q = judge(model.cpu(), classifier, z)
    return 1.0 - q.low_confidence, q.class_entropy


def point_row(point, path: Path, iw_samples: int, any_k: bool = False) -> dict:
    """A finished point's metrics: read from the checkpoint when it stored them with the same K
    (or any K with any_k: another sweep's point keeps its own) and the current IW estimator,
    computed here otherwise (a reused checkpoint trained without --eval-iw-samples K, or one
    evaluated before round three, whose IW-NLL may be NaN or biased: vae_core.model.estimators)."""
    model, meta = load_checkpoint(path)
    ev = meta.get("evaluation") or {}
    own_k = (
        ev.get("iw_samples") if type(ev.get("iw_samples")) is int and 1 <= ev["iw_samples"] <= MAX_IW_SAMPLES else None
    )
    if ev.get("split") != "val" or ev.get("iw_estimator") != IW_ESTIMATOR:
        ev = _evaluate(model, meta, own_k if any_k and own_k else iw_samples)
    elif not (ev.get("iw_samples") == iw_samples or any_k):
        ev = _evaluate(model, meta, iw_samples)
    return {
        "beta": point.beta,
        "latent_dim": point.latent_dim,
        "seed": point.seed,
        "rate": finite_or_none(ev.get("kl")),
        "distortion": finite_or_none(ev.get("recon")),
        "neg_elbo": finite_or_none(ev.get("neg_elbo")),
        "nll_iw": finite_or_none(ev.get("nll_iw")),
        "active_units": ev.get("active_units"),
        "knn_accuracy": ev.get("knn_accuracy"),
        **dict(zip(("sample_quality", "sample_entropy"), sample_quality(model, meta), strict=True)),
        "kind": meta.get("kind"),
        "dataset": meta.get("dataset"),
        "epochs": meta.get("train_config", {}).get("epochs"),
        "iw_samples": ev.get("iw_samples", iw_samples),
        "likelihood": likelihood_label(_binarized(meta)),
        "status": "done",
        "message": "",
        "path": path.name,
    }


def _binarized(meta: dict) -> bool:
    return (meta.get("train_config") or {}).get("binarize") == "dynamic"


def _evaluate(model, meta: dict, iw_samples: int) -> dict:
    """Validation metrics on the protocol the model was trained for (binarised NLL on the fixed draw
    for --binarize dynamic, like the evaluation stored at training; grey-level cross-entropy else)."""
    name = meta.get("dataset", "mnist5k")
    val, train = load_dataset(name, "val"), load_dataset(name, "train")
    if _binarized(meta):
        val, train = binarized_once(val), binarized_once(train)
    return {**evaluate(model, val, train, iw_samples=iw_samples, seed=meta.get("seed", 0)), "iw_samples": iw_samples}


def failed_row(point, message: str) -> dict:
    return {**dict.fromkeys(COLUMNS), "beta": point.beta, "latent_dim": point.latent_dim, "seed": point.seed,
            "status": "failed", "message": printable(message, MAX_TEXT)}  # fmt: skip


class Table:
    """A sweep folder's table: one row per finished checkpoint in the folder, whichever sweep trained
    it, plus the failed points; `refresh` rebuilds it from the folder and rewrites both files.

    Two sweeps may write into one folder at once: each rebuild lists the folder and writes under an
    exclusive lock on DIR/.sweep.lock, and every finished point is followed by a rebuild by its own
    sweep, so the last write lists every point finished before it. Rows are cached per file version.
    own: file names of this run's grid, whose IW-NLL is this run's K (other files keep their own K).
    """

    def __init__(self, out_dir: Path, iw_samples: int, own=frozenset()):
        self.out_dir, self.iw_samples, self.own = Path(out_dir), iw_samples, set(own)
        self.failures: dict = {}  # this run's failed points -> their last log line
        self.by_name: dict[str, dict] = {}  # the finished rows as last written, by file name
        self._cache: dict = {}  # (name, inode, size, mtime_ns) -> row or None
        self.csv_path, self.json_path = self.out_dir / "sweep.csv", self.out_dir / TABLE_NAME

    def refresh(self, failed: dict | None = None) -> list[dict]:
        """Rebuild from the folder (with `failed` {point: message} added), write it; the rows."""
        self.failures.update(failed or {})
        self._finished_rows()  # the slow part (loading, judging samples) outside the lock
        with folder_lock(self.out_dir):
            finished = self._finished_rows()
            done = {_key(r) for r in finished}
            self.failures = {p: m for p, m in self.failures.items() if _key(p) not in done}
            rows = finished + [r for r in self._failed_rows() if _key(r) not in done]
            self.write(rows)
        self.by_name = {r["path"]: r for r in finished}
        return rows

    def _finished_rows(self) -> list[dict]:
        rows = []
        for path in _checkpoints(self.out_dir):
            try:
                st = path.stat()
            except OSError:
                continue  # gone since the listing
            key = (path.name, st.st_ino, st.st_size, st.st_mtime_ns)
            if key not in self._cache:
                self._cache[key] = _row_or_none(path, self.iw_samples, path.name in self.own)
            if self._cache[key] is not None:
                rows.append(self._cache[key])
        return rows

    def _failed_rows(self) -> list[dict]:
        """This run's failures, and those an earlier or concurrent sweep left in the table."""
        mine = {_key(p): failed_row(p, m) for p, m in self.failures.items()}
        earlier = [r for r in read_table(self.out_dir) if r["status"] == "failed" and _key(r) not in mine]
        return list(mine.values()) + earlier

    def write(self, rows: list[dict]) -> None:
        rows = sorted(rows, key=lambda r: (r["latent_dim"], r["beta"], r["seed"], r["path"] or ""))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if r.get(k) is None else r[k]) for k in COLUMNS} for r in rows)
        atomic_write(self.csv_path, lambda f: f.write(buf.getvalue().encode()), durable=False)
        text = json.dumps({"columns": COLUMNS, "rows": rows}, indent=1, allow_nan=False) + "\n"
        atomic_write(self.json_path, lambda f: f.write(text.encode()), durable=False)


def _key(p) -> tuple:
    """The grid point of a row or a point: what a failure and a finished file of that point share."""
    get = p.get if isinstance(p, dict) else lambda k: getattr(p, k)
    return float(get("beta")), get("latent_dim"), get("seed")


def _checkpoints(folder: Path) -> list[Path]:
    """The folder's checkpoint files (a symlink to one included), hidden and temporary files not."""
    try:
        return [p for p in sorted(folder.glob("*.safetensors")) if not p.name.startswith(".") and p.is_file()]
    except OSError:
        return []


def _row_or_none(path: Path, iw_samples: int, own: bool) -> dict | None:
    """A finished checkpoint's row; None for a file that is not a usable grid point (broken, no seed)."""
    try:
        meta = read_meta(path)
        seed = meta.get("seed", (meta.get("train_config") or {}).get("seed"))
        if type(seed) is not int:
            return None
        config = meta["model_config"]
        point = GridPoint(float(config["beta"]), int(config["latent_dim"]), seed)
        row = point_row(point, path, iw_samples, not own)
    except NonFiniteEstimate as e:  # trained, but its IW-NLL is not a number: an error, shown as one
        row = {**failed_row(point, str(e)), "status": "error", "path": path.name}
    except (CheckpointError, OSError, KeyError, TypeError, ValueError):
        return None
    return row if row_problem(row) is None else None


@contextlib.contextmanager
def folder_lock(folder: Path, wait_s: float = LOCK_WAIT_S):
    """An exclusive lock on folder/.sweep.lock, waited for at most wait_s seconds: a stopped sweep
    holding it must not stop this one (the table is then written unlocked, atomically still)."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one sweep per folder at a time
        yield
        return
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                threading.Event().wait(0.05)
        yield
    finally:
        os.close(fd)
