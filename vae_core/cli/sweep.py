"""β sweeps: `python -m vae_core.sweep`, a resumable grid of independent trainings and its table.

    python -m vae_core.sweep --beta 0 0.1 0.25 0.5 1 2 4 8 --latent-dim 2 16 --seeds 0 1 \
        --out-dir DIR [--workers K] [any train flag: --epochs --dataset --hidden ...]

Each grid point (β, latent size, seed) is one `python -m vae_core.train` process writing
DIR/<kind>-z<D>-b<β>-s<seed>.safetensors (β as `{β:g}` when that reads back as the same number,
else its exact repr: 0.1 and 0.1000001 are two files); K of them run at once, each with cores/K
threads.
A point is done when its file loads and its stored settings are the grid point's (checkpoints
are written atomically, so a half-trained point leaves no file): a killed sweep resumes where
it stopped, and an existing checkpoint (a symlink to a shipped model, say) counts as done.
After every point DIR/sweep.csv and DIR/sweep.json are rebuilt from every finished checkpoint in
DIR (another sweep's too: two sweeps may share a folder, even at once) with the rate
(KL), distortion (reconstruction), −ELBO, IW-NLL, active units and kNN accuracy on the
validation split — the rate-distortion picture of Alemi et al. (2018), "Fixing a Broken ELBO".

The engine is imported inside the functions that need it: a bad grid is refused before torch loads.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from ..model.config import MAX_IW_SAMPLES  # no torch: a bad grid is refused before it loads
from .common import OneLineParser, Terminated, emit_json, fail, sigterm_as_exit

# Settings that make two trainings the same experiment (device, film and storage do not).
IDENTITY = (
    "epochs", "batch_size", "lr", "seed", "warmup_epochs", "augment_shift", "schedule", "precision", "binarize",
)  # fmt: skip
# What a checkpoint written before a setting existed was trained with (all was fp32 and grey-level).
BEFORE_SETTING = {"precision": "fp32", "binarize": "none"}
OWNED_FLAGS = ("--beta", "--latent-dim", "--seed", "--out", "--eval-iw-samples")  # set per point by the sweep
MAX_POINTS = 1_000


@dataclass(frozen=True)
class Point:
    beta: float  # KL weight
    latent_dim: int  # D
    seed: int  # training seed

    def file_name(self, kind: str) -> str:
        return f"{kind}-z{self.latent_dim}-b{beta_text(self.beta)}-s{self.seed}.safetensors"


def beta_text(beta: float) -> str:
    """β in a file name: `{β:g}` (the names of every sweep so far) when it reads back as the same
    number, else repr, the shortest text that does; two different β never share a name."""
    short = f"{beta:g}"
    return short if float(short) == beta else repr(beta)


def parse_args(argv=None):
    p = OneLineParser(prog="python -m vae_core.sweep", description="Train a grid of (beta, latent size, seed).")
    p.add_argument("--beta", type=float, nargs="+", required=True)
    p.add_argument("--latent-dim", type=int, nargs="+", required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--out-dir", required=True)
    p.add_argument("--workers", type=int, default=None, help="trainings at once (default: one per core)")
    p.add_argument("--eval-iw-samples", type=int, default=100, help="K of the IW-NLL column (validation split)")
    p.add_argument("--commands", action="store_true", help="print one train command per pending point and exit")
    p.add_argument(
        "--launcher",
        default=None,
        help='what --commands puts before "-m vae_core.train", e.g. "torchrun --standalone --nproc_per_node 4" '
        "(default: this Python)",
    )
    args, passthrough = p.parse_known_args(argv)
    owned = [a for a in passthrough if a.split("=")[0] in OWNED_FLAGS]
    if owned:
        raise ValueError(f"{owned[0]} is set by the sweep for each point; give --beta/--latent-dim/--seeds/--out-dir.")
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise ValueError(f"--workers must be from 1 to 256, not {args.workers}.")
    if not 1 <= args.eval_iw_samples <= MAX_IW_SAMPLES:
        raise ValueError(f"--eval-iw-samples must be from 1 to {MAX_IW_SAMPLES:,}, not {args.eval_iw_samples}.")
    args.train_args = passthrough
    return args


def grid(args) -> list[Point]:
    """The grid's points, each once (-0.0 is 0.0); β must be finite (the train CLI bounds the rest)."""
    bad = next((b for b in args.beta if not math.isfinite(b)), None)
    if bad is not None:
        raise ValueError(f"--beta must be finite numbers, not {bad}.")
    sizes = len(set(args.beta)) * len(set(args.latent_dim)) * len(set(args.seeds))
    if sizes > MAX_POINTS:  # counted before any list of that size is made
        raise ValueError(f"The grid has {sizes:,} points; at most {MAX_POINTS:,}.")
    betas = dict.fromkeys(b + 0.0 for b in args.beta)
    return [Point(b, d, s) for d in dict.fromkeys(args.latent_dim) for b in betas for s in dict.fromkeys(args.seeds)]


def train_argv(args, point: Point, out: Path) -> list[str]:
    """The train CLI arguments of one grid point."""
    return [
        *args.train_args,
        *("--beta", repr(point.beta), "--latent-dim", str(point.latent_dim), "--seed", str(point.seed)),
        *("--eval-iw-samples", str(args.eval_iw_samples), "--out", str(out)),
    ]


def expected_settings(args, point: Point) -> dict:
    """What a checkpoint of this point must say about itself (precision as this machine resolves it)."""
    from ..training.device import resolve_device, resolve_precision
    from .train import model_config_from_args, parse_args, train_config_from_args

    targs = parse_args(train_argv(args, point, Path(args.out_dir) / point.file_name("x")))
    tcfg = train_config_from_args(targs)
    shape = _image_shape(targs.dataset, targs.data_root, targs.image_size, targs.channels)
    mcfg = model_config_from_args(targs, shape)
    train = {k: getattr(tcfg, k) for k in IDENTITY}
    train["precision"] = resolve_precision(tcfg.precision, resolve_device(tcfg.device))
    return {"kind": mcfg.kind, "dataset": targs.dataset, "model_config": mcfg.to_dict(), "train_config": train}


@functools.cache
def _image_shape(dataset: str, root: str | None, image_size=None, channels=None) -> tuple:
    from ..data import load_dataset

    form = {"image_size": image_size, "channels": channels}
    return load_dataset(dataset, "val", root, **form).image_shape  # Fashion's files are read once, not per point


def differences(meta: dict, expected: dict) -> list[str]:
    """The settings in which a checkpoint differs from a grid point ([] when it is that point)."""
    from ..model.config import ModelConfig

    diffs = [] if meta.get("dataset") == expected["dataset"] else [f"dataset {meta.get('dataset')}"]
    try:
        stored = ModelConfig.from_dict(meta.get("model_config", {})).to_dict()
    except (TypeError, ValueError):
        stored = {}
    diffs += [f"{k} {stored.get(k)!r}" for k, v in expected["model_config"].items() if stored.get(k) != v]
    train = {**BEFORE_SETTING, **meta.get("train_config", {})}
    diffs += [f"{k} {train.get(k)!r}" for k, v in expected["train_config"].items() if train.get(k) != v]
    return diffs


def status(path: Path, expected: dict) -> tuple[str, str]:
    """('done', '') | ('missing', '') | ('other', why) | ('broken', why) for one point's file."""
    from ..io.checkpoint import CheckpointError, load_checkpoint

    if not path.exists():
        return "missing", ""
    try:
        _, meta = load_checkpoint(path)
    except CheckpointError as e:
        return "broken", str(e)
    diffs = differences(meta, expected)
    return ("other", ", ".join(diffs)) if diffs else ("done", "")


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Pool:
    """K training processes at a time; terminate() stops them all (SIGTERM: they clean up)."""

    def __init__(self, workers: int, threads: int):
        self.workers, self.threads = workers, threads
        self.procs: set = set()
        self.lock = threading.Lock()
        self.stopping = False

    def run_one(self, argv: list[str], log: Path) -> tuple[int, float]:
        """Train one point in a child process: (exit code, seconds it ran)."""
        env = {**os.environ, "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads)}
        cmd = [sys.executable, "-m", "vae_core.sweep", "--worker-of", str(os.getpid()), *argv]
        with open(log, "w") as out, self.lock:
            if self.stopping:
                return 143, 0.0
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=Path.cwd())
            self.procs.add(proc)
        code = proc.wait()
        with self.lock:
            self.procs.discard(proc)
        return code, time.perf_counter() - t0

    def terminate(self) -> None:
        with self.lock:
            self.stopping = True
            procs = list(self.procs)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


def run_sweep(args, log=print) -> dict | None:
    """Train every pending point, rewriting the table after each; returns the counts (None with --commands)."""
    out_dir = Path(args.out_dir)
    points = grid(args)
    expected = {p: expected_settings(args, p) for p in points}
    kind = expected[points[0]]["kind"]
    paths = {p: out_dir / p.file_name(kind) for p in points}
    states = {p: status(paths[p], expected[p]) for p in points}
    clash = next((p for p in points if states[p][0] == "other"), None)
    if clash is not None:
        raise ValueError(
            f"{paths[clash]} exists with other settings ({states[clash][1]}); use another --out-dir or remove it."
        )
    pending = [p for p in points if states[p][0] != "done"]
    if args.commands:
        launcher = shlex.split(args.launcher) if args.launcher else [sys.executable]
        for p in pending:
            print(shlex.join([*launcher, "-m", "vae_core.train", *train_argv(args, p, paths[p])]))
        return None
    from ..runs import sweep_table

    out_dir.mkdir(parents=True, exist_ok=True)
    table = sweep_table.Table(out_dir, args.eval_iw_samples, own={paths[p].name for p in points})
    table.refresh()
    log(f"{len(points)} points: {len(points) - len(pending)} done already, {len(pending)} to train.")
    failed = train_pending(args, pending, paths, table, log) if pending else []
    return {"points": len(points), "skipped": len(points) - len(pending), "trained": len(pending) - len(failed),
            "failed": len(failed), "table": str(table.csv_path)}  # fmt: skip


def train_pending(args, pending, paths, table, log) -> list:
    workers = max(1, min(args.workers or cores(), len(pending)))
    pool = Pool(workers, max(1, cores() // workers))
    (Path(args.out_dir) / "logs").mkdir(exist_ok=True)
    failed = []
    with ThreadPoolExecutor(workers) as ex:
        futures = {}
        for p in pending:
            log_file = Path(args.out_dir) / "logs" / (paths[p].stem + ".log")
            futures[ex.submit(pool.run_one, train_argv(args, p, paths[p]), log_file)] = p
        try:
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for f in done:
                    p, (code, seconds) = futures[f], f.result()
                    if code != 0:
                        failed.append(p)
                    table.refresh(failed={} if code == 0 else {p: _last_line(paths[p], args)})
                    log(_progress(p, paths[p], code == 0, seconds, table))
        finally:
            for f in futures:
                f.cancel()
            pool.terminate()
    return failed


def _last_line(path: Path, args) -> str:
    log = Path(args.out_dir) / "logs" / (path.stem + ".log")
    try:
        lines = [line for line in log.read_text(errors="replace").replace("\r", "\n").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"


def _progress(p: Point, path: Path, ok: bool, seconds: float, table) -> str:
    row = table.by_name.get(path.name)
    what = f"β={beta_text(p.beta)} z={p.latent_dim} seed {p.seed}"
    if not ok or row is None:
        why = table.failures.get(p, "its checkpoint is not usable")
        return f"{what}: failed after {seconds:.0f} s ({why})"
    elbo = "n/a" if row["neg_elbo"] is None else f"{row['neg_elbo']:.1f}"
    nll = "n/a" if row["nll_iw"] is None else f"{row['nll_iw']:.1f}"
    return f"{what}: done in {seconds:.0f} s, −ELBO {elbo}, IW-NLL {nll} (nats, {_likelihood(row)}, validation)"


def _likelihood(row: dict) -> str:
    return row.get("likelihood") or "grey-level cross-entropy"


def worker(parent: int, argv: list[str]) -> int:
    """A grid point's training process: it dies with its sweep, even a SIGKILLed one (Linux)."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the sweep died before prctl took effect
        return 143
    from .train import main

    return main(argv)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--worker-of"] and len(argv) > 1 and argv[1].isdigit():
        return worker(int(argv[1]), argv[2:])
    with sigterm_as_exit():
        try:
            args = parse_args(argv)
            result = run_sweep(args, log=lambda s: print(s, file=sys.stderr, flush=True))
        except Terminated as e:
            fail("sweep terminated by SIGTERM; finished points are kept, run the same command to resume.")
            return int(e.code)
        except (ValueError, RuntimeError, OSError) as e:
            return fail(e)
    if result is None:  # --commands printed them
        return 0
    emit_json(result)
    return 1 if result["failed"] else 0
