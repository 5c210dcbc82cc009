"""The live map's routes (ui/livemap/route.py): what the browser sends is untrusted — an image
request reads at most MAX_IDS indices of a set this server registered; an asset request names a
file the store wrote, never a path."""

import numpy as np
import pytest

from ui.livemap import route

DIGEST = "ab" * 12


@pytest.fixture
def images():
    rows = np.arange(10 * 4 * 4, dtype=np.uint8).reshape(10, 4, 4)
    route.register(DIGEST, rows)
    return rows


def ids(*xs) -> bytes:
    return np.asarray(xs, "<u4").tobytes()


def test_images_come_back_in_the_order_asked(images):
    data, error = route.gather(DIGEST, ids(7, 2, 7))
    assert error == "" and np.array_equal(np.frombuffer(data, np.uint8).reshape(3, 4, 4), images[[7, 2, 7]])


@pytest.mark.parametrize(
    "digest,body,why",
    [
        ("cd" * 12, ids(1), "unknown image set"),
        ("../../etc", ids(1), "unknown image set"),
        (DIGEST + "\n", ids(1), "unknown image set"),
        (DIGEST, b"", "uint32 indices"),
        (DIGEST, b"\x01\x02\x03", "uint32 indices"),
        (DIGEST, ids(*range(route.MAX_IDS + 1)), "uint32 indices"),
        (DIGEST, ids(10), "below 10"),
        (DIGEST, ids(0, 2**32 - 1), "below 10"),
    ],
)
def test_a_bad_image_request_is_one_line_at_bounded_cost(images, digest, body, why):
    data, error = route.gather(digest, body)
    assert data is None and why in error


def test_only_registered_hex_digests_are_served():
    with pytest.raises(ValueError, match="hex digest"):
        route.register("../x", np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="hex digest"):
        route.register(DIGEST + "\n", np.zeros((1, 2, 2), np.uint8))
    for k in range(route.MAX_SOURCES + 3):  # the oldest sets make way
        route.register(f"{k:024x}", np.zeros((1, 2, 2), np.uint8))
    assert route.gather(f"{0:024x}", ids(0))[0] is None and route.gather(f"{k:024x}", ids(0))[0] is not None


def test_the_asset_route_serves_store_files_by_name_only(tmp_path):
    (tmp_path / ("a" * 24 + ".f32")).write_bytes(b"x")
    (tmp_path / ("b" * 24 + "-17.u8.gz")).write_bytes(b"y")
    (tmp_path / ".livemap-cache").write_text("marker")
    route.serve_folder("t1", tmp_path)
    assert route.asset_path("t1", "a" * 24 + ".f32") == tmp_path / ("a" * 24 + ".f32")
    assert route.asset_path("t1", "b" * 24 + "-17.u8.gz") is not None
    stored = "a" * 24 + ".f32"
    for name in (
        ".livemap-cache",
        "../" + stored,
        stored + "/..",
        stored + "\n",
        "x.f32",
        "a" * 24 + ".exe.sh.f32",
        "",
    ):
        assert route.asset_path("t1", name) is None, repr(name)
    assert route.asset_path("nope", "a" * 24 + ".f32") is None


def test_a_map_in_use_is_served_again_after_other_maps_pushed_its_images_out(monkeypatch):
    """The route keeps MAX_SOURCES image sets; a page reusing its cached ImageSet calls
    keep_serving every run, which registers the set again once others pushed it out (before, its
    hovers were answered 400 for good: the colour test's image that never arrived)."""
    from ui.livemap import publish

    monkeypatch.setattr(route, "_installed", True)
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    mine = publish.publish_images(None, pixels, digest="ab" * 32)
    assert route.gather(mine.prefix, ids(1))[0] == pixels[1].tobytes()
    for k in range(route.MAX_SOURCES):
        route.register(f"{k + 1:024x}", np.zeros((1, 2, 2), np.uint8))
    assert route.gather(mine.prefix, ids(1))[0] is None  # pushed out
    publish.keep_serving(mine, pixels)
    assert route.gather(mine.prefix, ids(1))[0] == pixels[1].tobytes()
    route.register(f"{0:024x}", np.zeros((1, 2, 2), np.uint8))  # one more: the least recently used goes
    publish.keep_serving(mine, pixels)  # touched: now the most recently used
    for k in range(route.MAX_SOURCES - 1):
        route.register(f"{k + 100:024x}", np.zeros((1, 2, 2), np.uint8))
    assert route.gather(mine.prefix, ids(1))[0] == pixels[1].tobytes()  # kept: it was used last
