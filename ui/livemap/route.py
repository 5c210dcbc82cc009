"""The images under the pointer, any of them, in one request, and the map's files as they are:
two HTTP routes of the app's server.

Static chunk files (assets.py ImageSet) fetch images by index ranges; on a map of a million
points the images near the pointer (or in a zoomed view) are scattered over thousands of
chunks, and writing those chunks means compressing 784 MB. So when the app is served as an
st.App (app.py passes `routes()` to it), the browser POSTs the indices it wants (the point under
the pointer, its neighbours, the points in view) and gets their pixels back in that order,
gathered from the uint8 array the server already holds (memory-mapped for big datasets).

The asset route serves the live map's content-addressed files (assets.py) like the components'
static route does, but as stored: the server's gzip middleware compresses every response again
on every request, which for a million points' positions (8 MB of floats, barely compressible)
took 2.4-3.1 s of a first draw here; on loopback raw bytes take milliseconds.

What the browser sends is untrusted: the set must be one this server registered (a content
digest, hex), the body at most MAX_IDS little-endian uint32 indices (read no further than
that), every index below the set's size; anything else is a 400 with one line, at work bounded
by MAX_IDS images. Without the route (`streamlit run explorer.py`, the demo app), the map uses
the static chunks.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np

PATH = "/_livemap/images/{digest}"
ASSETS = "/_livemap/assets/{tag}/{name}"
NAME = re.compile(r"^[0-9a-f]{24}(-[0-9]{1,7})?(\.[a-z0-9]{1,4}){1,2}$")  # content hash, chunk number, suffixes
MAX_IDS = 4096  # images per request: 3 MB of 28x28 digits, 16 MB of 64x64 colour images
MAX_SOURCES = 16  # image sets held for the route (the maps' datasets; least recently used out)
DIGEST = re.compile(r"^[0-9a-f]{16,64}$")

_sources: OrderedDict[str, np.ndarray] = OrderedDict()
_folders: dict[str, object] = {}  # asset store tag -> its folder (a Path)
_lock = threading.Lock()
_installed = False


def installed() -> bool:
    """Whether this server process answers the route (app.py built it into the st.App)."""
    return _installed


def register(digest: str, images: np.ndarray) -> None:
    """Serve `images` (uint8 [N, ...], e.g. a memmap) under `digest`."""
    if not DIGEST.fullmatch(digest):
        raise ValueError(f"An image set is registered under a hex digest, not {digest!r}.")
    with _lock:
        _sources[digest] = images
        _sources.move_to_end(digest)
        while len(_sources) > MAX_SOURCES:
            _sources.popitem(last=False)


def touch(digest: str) -> bool:
    """Whether `digest` is being served; marks it used now (the least recently used go first)."""
    with _lock:
        if digest not in _sources:
            return False
        _sources.move_to_end(digest)
        return True


def serve_folder(tag: str, folder) -> str:
    """Serve the asset store `folder` under `tag`; the URL of its files, relative to the component's page."""
    _folders[tag] = folder
    return f"../..{ASSETS.format(tag=tag, name='')}"


def asset_path(tag: str, name: str):
    """The file `name` of the store `tag`, or None: only names the stores write (no paths, no dots)."""
    folder = _folders.get(tag)
    if folder is None or not NAME.fullmatch(name):  # fullmatch: "$" would let a trailing newline by
        return None
    path = folder / name
    return path if path.is_file() else None


def gather(digest: str, body: bytes) -> tuple[bytes | None, str]:
    """(the images' bytes in the order asked, "") or (None, the reason for a 400)."""
    with _lock:
        images = _sources.get(digest) if DIGEST.fullmatch(digest) else None
    if images is None:
        return None, "unknown image set"
    if not body or len(body) % 4 or len(body) > 4 * MAX_IDS:
        return None, f"send 1 to {MAX_IDS} uint32 indices"
    ids = np.frombuffer(body, dtype="<u4")
    if int(ids.max()) >= len(images):
        return None, f"indices must be below {len(images)}"
    return np.ascontiguousarray(images[ids.astype(np.int64)]).tobytes(), ""


def routes():
    """The image and asset routes for st.App(routes=[...]) (app.py); marks them as installed."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import FileResponse, PlainTextResponse, Response
    from starlette.routing import Route

    global _installed
    _installed = True

    async def images(request):
        body = bytearray()
        async for part in request.stream():  # read at most what a valid request holds
            body += part
            if len(body) > 4 * MAX_IDS:
                return PlainTextResponse(f"send at most {MAX_IDS} indices", status_code=400)
        data, error = await run_in_threadpool(gather, request.path_params["digest"], bytes(body))
        if data is None:
            return PlainTextResponse(error, status_code=400)
        # identity: the server's gzip middleware would spend milliseconds a request to save bytes on loopback
        headers = {"Cache-Control": "no-store", "Content-Encoding": "identity"}
        return Response(data, media_type="application/octet-stream", headers=headers)

    async def assets(request):
        path = asset_path(request.path_params["tag"], request.path_params["name"])
        if path is None:
            return PlainTextResponse("no such asset", status_code=404)
        headers = {"Cache-Control": "public, max-age=31536000, immutable", "Content-Encoding": "identity"}
        return FileResponse(path, media_type="application/octet-stream", headers=headers)

    return [Route(PATH, images, methods=["POST"]), Route(ASSETS, assets, methods=["GET"])]
