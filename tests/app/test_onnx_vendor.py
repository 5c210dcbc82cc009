"""The vendored onnxruntime-web (ui/livemap/frontend/vendor/onnxruntime-web/) is exactly the npm
release VENDORED.json names, complete, and reachable by the frontend the way core/onnx.js asks."""

import gzip
import hashlib
import json
import re

from support import ROOT

VENDOR = ROOT / "ui" / "livemap" / "frontend" / "vendor" / "onnxruntime-web"


def test_the_vendored_files_are_the_release_they_claim_to_be():
    manifest = json.loads((VENDOR / "VENDORED.json").read_text())
    for name, spec in manifest["files"].items():
        blob = (VENDOR / name).read_bytes()
        if spec.get("gzip"):
            assert hashlib.sha256(gzip.decompress(blob)).hexdigest() == spec["sha256_inflated"], name
        else:
            assert hashlib.sha256(blob).hexdigest() == spec["sha256"], name
    assert f"v{manifest['version']}" in (VENDOR / "ort.wasm.bundle.min.mjs").read_text()[:200]
    assert "MIT License" in (VENDOR / "LICENSE").read_text()
    shipped = {p.name for p in VENDOR.iterdir()}
    assert shipped == {*manifest["files"], "VENDORED.json", "LICENSE", "README.md"}, shipped  # nothing else


def test_the_frontend_loads_exactly_the_vendored_files():
    onnx_js = (ROOT / "ui" / "livemap" / "frontend" / "core" / "onnx.js").read_text()
    named = set(re.findall(r'"([\w.-]+\.(?:mjs|wasm\.gz))"', onnx_js))
    assert named == set(json.loads((VENDOR / "VENDORED.json").read_text())["files"]), named
