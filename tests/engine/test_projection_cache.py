"""The map cache: shipped maps are read only, the app's cache_dir is bounded and heals itself,
keys follow library versions, and no file on disk makes project() raise (seeded fuzzer)."""

import io
import random
import zipfile

import numpy as np
import pytest

import vae_core
import vae_core.analysis.projection as projection
from vae_core.analysis.projection import Projection, cache_path, project
from vae_core.io import projection_cache

CODES = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)


@pytest.fixture
def fits(monkeypatch):
    """Replace the (slow) t-SNE/UMAP fit by a deterministic one that counts its calls."""
    calls = []

    def fake_fit(codes, method, params=None, seed=0, native_dims=(0, 1), *follow):
        calls.append(dict(params))
        scale = float(sum(v for v in params.values()))
        return Projection(method, params, codes[:, :2] * scale, codes, axis_labels=("a", "b"))

    monkeypatch.setattr(projection, "fit_projection", fake_fit)
    return calls


@pytest.fixture
def ckpt(tmp_path, tiny_model):
    return vae_core.save_checkpoint(tiny_model(), tmp_path / "models" / "m.safetensors")


def tree(folder):
    return {p.relative_to(folder): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_shipped_maps_are_read_and_never_written(ckpt, tmp_path, fits):
    shipped = ckpt.parent / "projections"
    project(CODES, "tsne", {"perplexity": 30.0}, checkpoint=ckpt, data_key="d", cache_dir=shipped, cache_limit=None)
    assert len(fits) == 1 and len(list(shipped.glob("*.npz"))) == 1  # what scripts/ship_projections does
    before = tree(tmp_path)
    again = project(CODES, "tsne", {"perplexity": 30.0}, checkpoint=ckpt, data_key="d")  # the app, no cache_dir
    assert len(fits) == 1 and again.embedding.shape == (40, 2)  # read, not refitted
    for p in (5.0, 6.0, 7.0):  # other slider values: computed, written nowhere
        project(CODES, "tsne", {"perplexity": p}, checkpoint=ckpt, data_key="d")
    assert len(fits) == 4 and tree(tmp_path) == before
    cache = tmp_path / "cache"
    project(CODES, "tsne", {"perplexity": 8.0}, checkpoint=ckpt, data_key="d", cache_dir=cache)
    assert len(fits) == 5 and {k: v for k, v in tree(tmp_path).items() if k in before} == before  # untouched
    assert {p.relative_to(tmp_path) for p in tmp_path.rglob("*")} - set(before) == {
        cache.relative_to(tmp_path),
        next(cache.glob("*.npz")).relative_to(tmp_path),
    }


def test_the_cache_is_capped_and_evicts_the_least_recently_used(ckpt, tmp_path, fits):
    cache = tmp_path / "cache"
    project(CODES, "umap", {"n_neighbors": 1}, checkpoint=ckpt, data_key="d", cache_dir=cache)
    one = next(cache.glob("*.npz")).stat().st_size
    limit = 3 * one + one // 2  # room for three maps
    for k in range(2, 7):
        if k == 5:  # use the first map again: it becomes the most recently used
            project(
                CODES, "umap", {"n_neighbors": 1}, checkpoint=ckpt, data_key="d", cache_dir=cache, cache_limit=limit
            )
        project(CODES, "umap", {"n_neighbors": k}, checkpoint=ckpt, data_key="d", cache_dir=cache, cache_limit=limit)
    sizes = [p.stat().st_size for p in cache.glob("*.npz")]
    assert len(sizes) == 3 and sum(sizes) <= limit
    names = {p.name for p in cache.glob("*.npz")}
    for k, kept in ((1, True), (2, False), (3, False), (4, False), (5, True), (6, True)):
        path = cache_path(ckpt, "d|seed=0", "umap", {**projection.DEFAULT_PARAMS["umap"], "n_neighbors": k}, cache)
        assert (path.name in names) == kept, k
    assert projection_cache.CACHE_LIMIT_BYTES == 200 * 2**20  # the documented default


def zip_of(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=True)
    return buf.getvalue()


LABELS = npy(np.array(["a", "b"]))


def huge_header() -> bytes:
    """An .npy header claiming 2 * 10**12 floats (8 TB) in front of 320 bytes."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 2)})
    return buf.getvalue()


CORRUPT = {
    "zeros": bytes(4096),
    "empty": b"",
    "text": b"not a zip at all",
    "zip of zeros": zip_of({"embedding.npy": bytes(1000)}),
    "wrong shape": zip_of({"embedding.npy": npy(np.zeros((7, 2), np.float32)), "axis_labels.npy": LABELS}),
    "nan": zip_of({"embedding.npy": npy(np.full((40, 2), np.nan, np.float32)), "axis_labels.npy": LABELS}),
    "pickled objects": zip_of(
        {"embedding.npy": npy(np.array([object()] * 80).reshape(40, 2)), "axis_labels.npy": LABELS}
    ),
    "huge claimed shape": zip_of({"embedding.npy": huge_header() + bytes(320), "axis_labels.npy": LABELS}),
    "zip bomb": zip_of({"embedding.npy": npy(np.zeros((40, 2), np.float32)) + bytes(200 * 2**20)}),
    "foreign member": zip_of({"evil.npy": npy(np.zeros(3)), "embedding.npy": npy(np.zeros((40, 2)))}),
    "labels not text": zip_of({"embedding.npy": npy(np.zeros((40, 2))), "axis_labels.npy": npy(np.zeros(2))}),
}


@pytest.mark.parametrize("kind", list(CORRUPT))
def test_a_corrupt_cache_file_is_removed_and_recomputed(ckpt, tmp_path, fits, kind):
    cache = tmp_path / "cache"
    params = {"perplexity": 9.0}
    path = cache_path(ckpt, "d|seed=0", "tsne", params, cache)
    cache.mkdir()
    path.write_bytes(CORRUPT[kind])
    proj = project(CODES, "tsne", params, checkpoint=ckpt, data_key="d", cache_dir=cache)
    assert len(fits) == 1 and proj.embedding.shape == (40, 2)
    assert projection.load_cached(path, CODES, "tsne", params) is not None  # replaced by a good one
    shipped = cache_path(ckpt, "d|seed=0", "tsne", params)
    shipped.parent.mkdir()
    shipped.write_bytes(CORRUPT[kind])
    project(CODES, "tsne", params, checkpoint=ckpt, data_key="d")  # a broken shipped map: refit ...
    assert len(fits) == 2 and shipped.read_bytes() == CORRUPT[kind]  # ... and leave it alone


@pytest.mark.parametrize("before", ["absent", "corrupt"])
def test_a_lookup_never_removes_a_map_a_fit_stored_while_it_read(ckpt, tmp_path, monkeypatch, before):
    """A page looks a map up while the fit lane stores it: the page's miss must not delete the
    new file (it did, and the page then fitted the map a second time)."""
    cache, params = tmp_path / "cache", {"perplexity": 9.0}
    path = cache_path(ckpt, "d|seed=0", "tsne", params, cache)
    cache.mkdir()
    if before == "corrupt":
        path.write_bytes(CORRUPT["text"])
    good = Projection("tsne", params, CODES[:, :2].copy(), CODES, axis_labels=("a", "b"))
    real_load, real_stat = projection.load_cached, projection.Path.stat
    stored = []

    def store_once():
        if not stored:
            stored.append(True)
            projection.save_cached(path, good)  # the fit lane's atomic write lands now

    def load_then_store(p, *args):
        found = real_load(p, *args)  # what the page read: nothing usable
        store_once()
        return found

    def stat_then_store(self, *args, **kwargs):  # the page finds no file; the fit stores it right after
        try:
            return real_stat(self, *args, **kwargs)
        except FileNotFoundError:
            if self == path:
                store_once()
            raise

    monkeypatch.setattr(projection, "load_cached", load_then_store)
    monkeypatch.setattr(projection.Path, "stat", stat_then_store)
    assert projection.lookup(CODES, "tsne", params, ckpt, "d", cache_dir=cache) is None  # the page's miss
    monkeypatch.undo()
    assert stored and real_load(path, CODES, "tsne", params) is not None  # the fit's map is still there


def test_cache_keys_follow_library_versions(ckpt, monkeypatch):
    params = {"perplexity": 30.0}
    now = cache_path(ckpt, "d", "tsne", params).name
    projection_cache.library_versions.cache_clear()
    real = projection_cache.library_versions.__wrapped__
    monkeypatch.setattr(projection_cache, "library_versions", lambda m: {**real(m), "scikit-learn": "99.0"})
    assert cache_path(ckpt, "d", "tsne", params).name != now
    assert set(real("umap")) == {"umap-learn", "scikit-learn", "numpy"}
    assert set(real("tsne")) == {"scikit-learn", "numpy"}


def test_stale_temp_files_in_the_cache_are_cleaned(ckpt, tmp_path, fits):
    from vae_core.io.atomic import host_tag

    cache = tmp_path / "cache"
    cache.mkdir()
    stale = cache / f".m-tsne-0123.npz.{2**22 + 7}-{host_tag()}-abc123.tmp"  # a pid no Linux system has
    stale.write_bytes(bytes(100))
    project(CODES, "tsne", {"perplexity": 3.0}, checkpoint=ckpt, data_key="d", cache_dir=cache)
    assert not stale.exists() and len(list(cache.iterdir())) == 1


def test_mutated_cache_files_never_raise(ckpt, tmp_path, fits):
    """Seeded byte mutations of a valid map file: project() returns a map every time and leaves
    a readable file (the original if it survived, a recomputed one otherwise)."""
    cache = tmp_path / "cache"
    params = {"perplexity": 4.0}
    project(CODES, "tsne", params, checkpoint=ckpt, data_key="d", cache_dir=cache)
    path = next(cache.glob("*.npz"))
    good = path.read_bytes()
    rng = random.Random(0)
    for case in range(1000):
        b = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            if not b:
                break
            at = rng.randrange(len(b))
            if rng.random() < 0.5:
                b[at] = rng.randrange(256)
            else:
                del b[at:]
        path.unlink()
        path.write_bytes(bytes(b))
        try:
            proj = project(CODES, "tsne", params, checkpoint=ckpt, data_key="d", cache_dir=cache)
        except Exception as e:  # noqa: BLE001 - the point of the test
            pytest.fail(f"case {case}: {type(e).__name__}: {e}")
        assert proj.embedding.shape == (40, 2) and np.isfinite(proj.embedding).all(), case
        assert projection.load_cached(path, CODES, "tsne", params) is not None, case
    assert 0 < len(fits) - 1 < 1000  # some mutants were harmless, most were recomputed


def test_the_ship_script_writes_maps_where_it_is_told(tmp_path, tiny_model, fits):
    from scripts import ship_projections

    model = vae_core.save_checkpoint(tiny_model(), tmp_path / "digits-m.safetensors", {"dataset": "digits"})
    out = tmp_path / "shipped"
    out.mkdir()
    old = out / "digits-m-tsne-0123456789abcdef.npz"
    old.write_bytes(b"an old map")
    other = out / "digits-mm-tsne-0123456789abcdef.npz"  # another model's: left alone
    other.write_bytes(b"x")
    assert ship_projections.main(["--dataset", "digits", "--models", str(model), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 3 and other.name in names and old.name not in names
    assert fits == [{"perplexity": 30.0}, {"n_neighbors": 15, "min_dist": 0.1}]
    data = vae_core.load_dataset("digits", "train").subset(ship_projections.MAP_POINTS)
    codes = np.zeros((len(data), 3), np.float32)
    for method in ("tsne", "umap"):  # found under the key the app computes
        path = cache_path(model, f"digits:train:{len(data)}|seed=0", method, projection.DEFAULT_PARAMS[method], out)
        assert path.exists() and projection.load_cached(path, codes, method, {}) is not None
