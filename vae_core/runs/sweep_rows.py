"""A sweep folder's sweep.json, read without trusting it (as vae_core.io.header reads a checkpoint).

The table is a file anyone can edit, copy half of or corrupt, and the β-sweep page plots and
links to what it says: a row's `path` becomes a model to load, its numbers become axes. So the
reader bounds what it reads (MAX_TABLE_BYTES, nesting: a top-level object, a list of rows, rows
of scalars), checks every field's type and range, keeps only the known columns, and refuses a
`path` that is not a plain file name in the folder or a text that is not valid UTF-8. It never
raises: a table it cannot use gives no rows and the reason; a row it cannot use is left out, and
the reason counts it. No torch here: the page reads tables without loading the engine.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

from ..io.header import printable, strict_json
from ..model.config import MAX_BETA, MAX_LATENT_DIM

COLUMNS = (
    "beta", "latent_dim", "seed", "rate", "distortion", "neg_elbo", "nll_iw", "active_units", "knn_accuracy",
    "sample_quality", "sample_entropy", "kind", "dataset", "epochs", "iw_samples", "likelihood", "status", "message",
    "path",
)  # fmt: skip
TABLE_NAME = "sweep.json"
MAX_TABLE_BYTES = 16 * 2**20  # ~1,000 points of 18 columns take 0.5 MB
MAX_ROWS = 20_000  # several sweeps' grids (each at most cli.sweep.MAX_POINTS) in one folder
MAX_TEXT = 1000  # characters of a text field (a failure's message is the longest)
MAX_NAME_BYTES = 255  # a file name (NAME_MAX)
# done; failed (training failed); broken; error (trained, but a figure came out NaN or infinite:
# the estimator's message says which, never a silent gap)
STATUSES = ("done", "failed", "broken", "error")
NUMBERS = ("rate", "distortion", "neg_elbo", "nll_iw", "knn_accuracy", "sample_quality", "sample_entropy")
COUNTS = {"active_units": MAX_LATENT_DIM, "epochs": 10**9, "iw_samples": 10**9}  # whole numbers >= 0, or null
TEXTS = ("kind", "dataset", "message", "likelihood")  # likelihood: what rate/distortion/−ELBO/IW-NLL are


class SweepRows(list):
    """The usable rows of a sweep table, as a list of dicts; `reason` says why the table, or some of
    its rows, could not be used (None when every row was read)."""

    def __init__(self, rows=(), reason: str | None = None):
        super().__init__(rows)
        self.reason = reason


def read_table(out_dir) -> SweepRows:
    """The rows of a sweep folder's sweep.json (none before its first point is done); never raises."""
    path = Path(out_dir) / TABLE_NAME
    where = f"{printable(Path(out_dir).name)}/{TABLE_NAME}"
    try:
        raw = _read_bounded(path)
    except FileNotFoundError:
        return SweepRows()
    except OSError as e:
        return SweepRows(reason=f"{where}: cannot be read ({printable(e.strerror or type(e).__name__)}).")
    except ValueError as e:
        return SweepRows(reason=f"{where}: {e}.")
    if raw is None:
        return SweepRows(reason=f"{where}: not a regular file.")
    try:
        table = strict_json(raw)
    except UnicodeDecodeError:
        return SweepRows(reason=f"{where}: not UTF-8 text.")
    except (ValueError, RecursionError):  # bad JSON, 5,000-digit ints, nesting deeper than the stack
        return SweepRows(reason=f"{where}: not valid JSON.")
    rows = table.get("rows") if isinstance(table, dict) else None
    if not isinstance(rows, list):
        return SweepRows(reason=f"{where}: no list of rows.")
    if len(rows) > MAX_ROWS:
        return SweepRows(reason=f"{where}: {len(rows):,} rows; the limit is {MAX_ROWS:,}.")
    return _checked(where, rows)


def _read_bounded(path: Path) -> bytes | None:
    """At most MAX_TABLE_BYTES, without blocking on a FIFO; None for what is not a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_TABLE_BYTES + 1)
    if len(raw) > MAX_TABLE_BYTES:
        raise ValueError(f"larger than {MAX_TABLE_BYTES // 2**20} MB, the limit")
    return raw


def _checked(where: str, rows: list) -> SweepRows:
    good, bad = [], []
    for i, row in enumerate(rows):
        problem = row_problem(row)
        if problem is None:
            good.append({k: row.get(k) for k in COLUMNS})
        else:
            bad.append(f"row {i + 1}: {problem}")
    if not bad:
        return SweepRows(good)
    return SweepRows(good, f"{where}: {len(bad)} of {len(rows)} rows unusable ({bad[0]}).")


def row_problem(row) -> str | None:
    """Why a row cannot be used, in a few words; None when every field is of its type and range."""
    if not isinstance(row, dict):
        return f"a {type(row).__name__}, not a row"
    checks = [
        ("beta", _real(row.get("beta"), 0.0, MAX_BETA)),
        ("latent_dim", _whole(row.get("latent_dim"), 1, MAX_LATENT_DIM)),
        ("seed", _whole(row.get("seed"), -(2**63), 2**64)),
        ("status", row.get("status") in STATUSES),
    ]
    checks += [(k, row.get(k) is None or _real(row[k], -math.inf, math.inf)) for k in NUMBERS]
    checks += [(k, row.get(k) is None or _whole(row[k], 0, hi)) for k, hi in COUNTS.items()]
    checks += [(k, row.get(k) is None or _text(row[k])) for k in TEXTS]
    checks.append(("path", _file_name(row.get("path")) or (row.get("path") is None and row.get("status") != "done")))
    field = next((k for k, ok in checks if not ok), None)
    return None if field is None else f"{field} is {_shown(row.get(field))}"


def _real(v, lo: float, hi: float) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and lo <= v <= hi


def _whole(v, lo: int, hi: int) -> bool:
    return type(v) is int and lo <= v <= hi


def _text(v) -> bool:
    if not isinstance(v, str) or len(v) > MAX_TEXT:
        return False
    try:
        v.encode("utf-8")  # a lone surrogate (JSON "\udc80") is not text a page can show
    except UnicodeEncodeError:
        return False
    return True


def _file_name(v) -> bool:
    """A plain file name inside the folder: no separator, not . or .., no NUL, valid UTF-8."""
    if not _text(v) or v in ("", ".", "..") or any(c in v for c in "/\\\0"):
        return False
    return len(v.encode("utf-8")) <= MAX_NAME_BYTES


def _shown(v) -> str:
    r = repr(v) if not isinstance(v, (dict, list)) else type(v).__name__
    return printable(r, 40)
