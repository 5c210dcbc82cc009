"""`shapes`: dSprites' factor grid, each factor tuple drawn where and as it should be, the cache, the splits."""

import math

import numpy as np
import pytest
import torch

from vae_core.data import shapes
from vae_core.data.store import BitImages, ByteImages
from vae_core.data.views import pack_bits, unpack_bits


def test_the_factor_grid_is_dsprites():
    g = shapes.GRID
    assert g.sizes == (3, 6, 40, 32, 32) and shapes.N_IMAGES == 737_280
    assert np.allclose(g.scale, [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert g.orientation[0] == 0 and g.orientation[-1] == pytest.approx(2 * math.pi)
    assert g.orientation[1] == pytest.approx(0.16110732)  # dSprites' metadata: 2 pi / 39
    assert g.pos_x[0] == 0 and g.pos_x[-1] == 1 and g.pos_y[1] == pytest.approx(0.03225806)
    idx = np.arange(shapes.N_IMAGES)
    f = shapes.factor_indices(idx)
    assert f[1].tolist() == [0, 0, 0, 0, 1] and f[32].tolist() == [0, 0, 0, 1, 0]  # pos_y fastest, as dSprites
    assert np.array_equal(shapes.image_index(f), idx)
    counts = [np.bincount(f[:, j]).tolist() for j in range(5)]
    assert counts == [[shapes.N_IMAGES // n] * n for n in g.sizes]  # every combination exactly once


def _centroid(img):
    ys, xs = np.nonzero(img)
    return xs.mean() + 0.5, ys.mean() + 0.5  # pixel centres


@pytest.mark.parametrize("shape", [0, 1, 2])
@pytest.mark.parametrize("scale, orient, x, y", [(5, 0, 0, 0), (0, 7, 31, 0), (3, 20, 10, 31), (5, 13, 31, 31)])
def test_a_factor_tuple_draws_its_shape_at_its_place(shape, scale, orient, x, y):
    block = int(shapes.image_index([shape, scale, orient, 0, 0])) // shapes.BLOCK
    img = shapes.render_block(block)[x, y]
    s = shapes.GRID.scale[scale]
    cx, cy = 16 + 31 * shapes.GRID.pos_x[x], 16 + 31 * shapes.GRID.pos_y[y]
    area = {0: (20 * s) ** 2, 1: math.pi * 12 * s * 6 * s, 2: None}[shape]
    if shape < 2:  # symmetric about their centre: the ink's centroid is the sprite's centre
        assert np.allclose(_centroid(img), (cx, cy), atol=0.6)
        assert img.sum() == pytest.approx(area, rel=0.12)
    else:  # the heart: 20 px tall at scale 1, its box centred on (cx, cy)
        ys = np.nonzero(img.any(1))[0]
        if orient == 0:
            assert ys.max() - ys.min() + 1 == pytest.approx(20 * s, abs=1.5)
            assert (ys.max() + ys.min() + 1) / 2 == pytest.approx(cy, abs=1.0)
    assert img.any() and not img[[0, -1]].any() and not img[:, [0, -1]].any()  # never touches the border


def test_orientation_turns_the_sprite_and_shapes_differ():
    def draw(shape, orient):
        return shapes.render_block(int(shapes.image_index([shape, 5, orient, 0, 0])) // shapes.BLOCK)[16, 16]

    wide, turned = draw(1, 0), draw(1, 10)  # the ellipse at 0 and at ~92 degrees
    width = lambda im: np.ptp(np.nonzero(im.any(0))[0]) + 1  # noqa: E731
    height = lambda im: np.ptp(np.nonzero(im.any(1))[0]) + 1  # noqa: E731
    assert width(wide) == 24 and height(wide) == 12 and height(turned) >= 22 and width(turned) <= 14
    assert draw(0, 0).sum() > draw(2, 0).sum() > draw(1, 0).sum()  # square > heart > ellipse in area
    assert np.array_equal(draw(0, 0), draw(0, 39))  # 0 and 2 pi: the same image, as in dSprites
    heart = draw(2, 0)  # point down: the bottom rows are narrower than the top ones
    rows = np.nonzero(heart.any(1))[0]
    assert heart[rows[-2]].sum() < heart[rows[2]].sum()


def test_the_cache_is_checked_and_remade(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path))
    monkeypatch.setattr(shapes, "N_IMAGES", 16 * shapes.BLOCK)  # 16 blocks, not 720
    calls = []
    bits = shapes.load_bits(lambda done, total: calls.append(done))
    assert bits.shape == (16 * shapes.BLOCK, 1, 64, 8) and calls[-1] == 16
    assert np.array_equal(bits[5 * shapes.BLOCK : 6 * shapes.BLOCK], shapes.packed_block(5))
    calls.clear()
    assert np.array_equal(shapes.load_bits(lambda d, t: calls.append(d)), bits) and calls == []  # read, not made
    path = shapes.cache_path()
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0xFF  # the last block is one of the three drawn again on every load
    path.write_bytes(bytes(blob))
    again = shapes.load_bits(lambda d, t: calls.append(d))
    assert calls and np.array_equal(again[-shapes.BLOCK :], shapes.packed_block(15))


def test_the_splits_labels_and_factors(monkeypatch):
    """663,552 / 73,728 stratified by shape; the images are never read to make the splits."""
    empty = np.broadcast_to(np.zeros((1, 1, 64, 8), np.uint8), (shapes.N_IMAGES, 1, 64, 8))
    monkeypatch.setattr(shapes, "load_bits", lambda progress=None: empty)
    train, val = shapes.load_shapes("train"), shapes.load_shapes("val")
    assert (len(train), len(val)) == (663_552, 73_728) and train.classes == ("square", "ellipse", "heart")
    assert val.labels.bincount().tolist() == [24_576] * 3 and train.image_shape == (1, 64, 64)
    assert set(train.factors) == {"shape", "scale", "orientation", "pos_x", "pos_y"}
    assert torch.equal(train.factors["shape"].long(), train.labels)
    i = 12_345
    original = int(train.images.index[i])  # the image's index in dSprites' order
    expected = shapes.factor_values([original])
    assert all(train.factors[k][i].item() == pytest.approx(float(v[0])) for k, v in expected.items())
    with pytest.raises(ValueError, match="no separate test split"):
        shapes.load_shapes("test")


def test_compact_stores_index_like_float_tensors():
    rng = np.random.default_rng(0)
    binary = rng.random((10, 1, 5, 13)) > 0.5
    bits, dense = BitImages(pack_bits(binary), (1, 5, 13)), torch.from_numpy(binary.astype(np.float32))
    raw = rng.integers(0, 256, (10, 3, 4, 4), dtype=np.uint8)
    byte, fl = ByteImages(raw, (3, 4, 4)), torch.from_numpy(raw.astype(np.float32) / 255)
    for store, ref in ((bits, dense), (byte, fl)):
        idx = torch.tensor([7, 2, 2, 9])
        assert store.shape == ref.shape and len(store) == 10
        assert torch.equal(store[idx], ref[idx]) and torch.equal(store[2:5], ref[2:5])
        assert torch.equal(store[-1], ref[-1])
        sub = store.take(torch.tensor([1, 3, 8]))
        assert torch.equal(sub[:], ref[[1, 3, 8]]) and torch.equal(sub.take(np.array([2]))[:], ref[[8]])
        moved = sub.to("cpu")
        assert isinstance(moved.rows, torch.Tensor) and torch.equal(moved[torch.tensor([0, 2])], ref[[1, 8]])
        with pytest.raises(IndexError):
            store[10]


def test_factor_r2_finds_the_factor_each_unit_follows():
    from vae_core.analysis.factors import factor_r2

    rng = np.random.default_rng(0)
    values = shapes.factor_values(rng.integers(0, shapes.N_IMAGES, 5000))
    z = np.column_stack(
        [
            values["scale"] * 3 + rng.normal(0, 0.01, 5000),  # linear in scale
            np.cos(4 * values["orientation"]),  # the square's 90-degree symmetry
            np.array([-1.0, 0.5, 2.0])[values["shape"].astype(int)],  # a level per shape
            rng.normal(size=5000),  # nothing
        ]
    )
    r2 = factor_r2(z, values)
    assert r2["scale"][0] > 0.99 and r2["orientation"][1] > 0.99 and r2["shape"][2] > 0.99
    assert max(r2[k][3] for k in r2) < 0.01 and r2["pos_x"][0] < 0.01 and r2["scale"][2] < 0.01


def test_a_uint8_view_makes_only_the_rows_asked_for_and_matches_the_floats():
    """A map of 663,552 sprites hovers from a lazy view: the same bytes as expanding the store,
    rows made only when indexed, bounds and index kinds checked as numpy does."""
    rng = np.random.default_rng(1)
    binary = rng.random((50, 1, 8, 16)) < 0.5
    store = BitImages(pack_bits(binary), (1, 8, 16)).take(np.arange(10, 50))  # a subset, as a split is
    asked = []
    view = store.uint8_view()
    view._make = (lambda make: lambda idx: asked.append(len(idx)) or make(idx))(view._make)
    expected = binary[10:50].astype(np.uint8) * 255
    assert view.shape == (40, 1, 8, 16) and len(view) == 40 and view.dtype == np.uint8
    assert asked == []  # nothing made at construction
    assert np.array_equal(view[np.array([3, 0, 39])], expected[[3, 0, 39]]) and asked == [3]
    assert np.array_equal(view[5], expected[5]) and np.array_equal(view[-1], expected[-1])
    assert np.array_equal(view[2:30:7], expected[2:30:7])
    assert np.array_equal(view[6, 0], expected[6, 0]) and np.array_equal(view[[1, 2], 0, 3], expected[[1, 2], 0, 3])
    mask = np.zeros(40, bool)
    mask[[1, 4]] = True
    assert np.array_equal(view[mask], expected[mask])
    grey = view.squeeze_channel()
    assert grey.shape == (40, 8, 16) and np.array_equal(grey[[7]], expected[[7], 0])
    for bad in (np.array([40]), np.array([-41]), np.zeros(3, bool), np.array([[1]]), np.array([0.5])):
        with pytest.raises(IndexError):
            view[bad]
    with pytest.raises(TypeError, match="never read whole"):
        np.asarray(view)
    assert store.uint8_view().shape == store.shape  # every store kind has one
    assert np.array_equal(ByteImages(expected, (1, 8, 16)).uint8_view()[[2]], expected[[2]])


def test_numpy_alone_unpacks_what_the_torch_store_expands():
    """The app's first page reads bits with numpy (vae_core.data.views); the engine expands them
    with torch: the same pixels, for a width that is not a multiple of 8 and for a subset."""
    binary = np.random.default_rng(2).random((30, 1, 5, 13)) < 0.5
    packed = pack_bits(binary)
    assert np.array_equal(unpack_bits(packed, 13), binary.astype(np.uint8))
    store = BitImages(packed, (1, 5, 13)).take(np.array([29, 3, 3, 17]))
    floats = store[:].numpy()  # torch's expansion
    assert np.array_equal(store.uint8_view()[:], (floats * 255).astype(np.uint8))  # numpy's
    assert np.array_equal(BitImages(torch.from_numpy(packed), (1, 5, 13)).uint8_view()[[29]], floats[[0]] * 255)


def test_the_split_as_a_torch_free_view_is_the_datasets_own(monkeypatch):
    """shapes.uint8_view(bits, rows) gives a split's sprites as the Dataset's store does, without
    torch (the app's shapes map): checked on the real split's rows over stand-in bits."""
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 256, (shapes.N_IMAGES, 1, 64, 8), dtype=np.uint8)
    monkeypatch.setattr(shapes, "load_bits", lambda progress=None: bits)
    train = shapes.load_shapes("train")
    view = shapes.uint8_view(bits, train.images.index)
    pick = rng.choice(len(train), 300, replace=False)
    assert view.shape == (len(train), 1, 64, 64)
    assert np.array_equal(view[pick], train.images.uint8_view()[pick])
    assert np.array_equal(view[pick], (train.images[torch.from_numpy(pick)].numpy() * 255).astype(np.uint8))
