"""The β-sweep table: one row per finished grid point, as sweep.csv and sweep.json (atomic writes).

Columns: β, latent size, seed, rate = KL(q(z|x) ‖ p(z)) and distortion = −E_q[log p(x|z)]
(Alemi et al. 2018: −ELBO = rate + distortion, in nats per image), −ELBO, the IW-NLL with K
importance samples (Burda et al. 2016), active units, kNN accuracy of the latent means, and
sample quality (the share of N(0, I) samples the shipped classifier names, and the entropy of
their classes) — all on the validation split of the data set the model was trained on.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import torch

from ..analysis.metrics import evaluate
from ..analysis.quality import sample_quality as judge
from ..data import load_dataset
from ..io.atomic import atomic_write
from ..io.checkpoint import load_checkpoint
from ..io.classifier_file import classifier_for, load_classifier
from ..io.jsonable import finite_or_none

COLUMNS = (
    "beta", "latent_dim", "seed", "rate", "distortion", "neg_elbo", "nll_iw", "active_units", "knn_accuracy",
    "sample_quality", "sample_entropy", "kind", "dataset", "epochs", "iw_samples", "status", "message", "path",
)  # fmt: skip
CLASSIFIERS = Path(__file__).resolve().parents[2] / "checkpoints" / "classifiers"  # the shipped judges
N_JUDGED = 2000  # prior samples per model: ±1 % on a share near 10 %


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


def point_row(point, path: Path, iw_samples: int) -> dict:
    """A finished point's metrics: read from the checkpoint when it stored them with the same K,
    computed here otherwise (a reused checkpoint trained without --eval-iw-samples K)."""
    model, meta = load_checkpoint(path)
    ev = meta.get("evaluation") or {}
    if ev.get("split") != "val" or ev.get("iw_samples") != iw_samples:
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
        "iw_samples": iw_samples,
        "status": "done",
        "message": "",
        "path": path.name,
    }


def _evaluate(model, meta: dict, iw_samples: int) -> dict:
    name = meta.get("dataset", "mnist5k")
    val, train = load_dataset(name, "val"), load_dataset(name, "train")
    return evaluate(model, val, train, iw_samples=iw_samples, seed=meta.get("seed", 0))


class Table:
    """Rows by grid point; `update` adds finished (or failed) points and rewrites both files."""

    def __init__(self, out_dir: Path, iw_samples: int):
        self.out_dir, self.iw_samples = Path(out_dir), iw_samples
        self.rows: dict = {}
        self.failures: dict = {}
        self.csv_path, self.json_path = self.out_dir / "sweep.csv", self.out_dir / "sweep.json"

    def update(self, done: dict, failed: dict | None = None) -> None:
        for point, path in done.items():
            self.rows[point] = point_row(point, path, self.iw_samples)
            self.failures.pop(point, None)
        for point, message in (failed or {}).items():
            self.failures[point] = message
            self.rows[point] = {**dict.fromkeys(COLUMNS), "beta": point.beta, "latent_dim": point.latent_dim,
                                "seed": point.seed, "status": "failed", "message": message}  # fmt: skip
        self.write()

    def sorted_rows(self) -> list[dict]:
        return [self.rows[p] for p in sorted(self.rows, key=lambda p: (p.latent_dim, p.beta, p.seed))]

    def write(self) -> None:
        rows = self.sorted_rows()
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if r.get(k) is None else r[k]) for k in COLUMNS} for r in rows)
        atomic_write(self.csv_path, lambda f: f.write(buf.getvalue().encode()), durable=False)
        text = json.dumps({"columns": COLUMNS, "rows": rows}, indent=1, allow_nan=False) + "\n"
        atomic_write(self.json_path, lambda f: f.write(text.encode()), durable=False)


def read_table(out_dir) -> list[dict]:
    """The rows of a sweep folder's sweep.json ([] before the first point is done)."""
    path = Path(out_dir) / "sweep.json"
    if not path.exists():
        return []
    return json.loads(path.read_text())["rows"]
