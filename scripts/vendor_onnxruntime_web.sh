#!/bin/sh
# Vendor onnxruntime-web's WebAssembly CPU build into ui/livemap/frontend/vendor/onnxruntime-web/
# (README.md there says why these two files). Needs npm; run on a developer's machine, commit the result.
#   scripts/vendor_onnxruntime_web.sh 1.30.0
set -eu
VERSION="${1:?usage: $0 VERSION}"
DEST="$(cd "$(dirname "$0")/.." && pwd)/ui/livemap/frontend/vendor/onnxruntime-web"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack "onnxruntime-web@$VERSION" >/dev/null
tar xzf "onnxruntime-web-$VERSION.tgz"
cp package/dist/ort.wasm.bundle.min.mjs "$DEST/"
gzip -9 -n -c package/dist/ort-wasm-simd-threaded.wasm > "$DEST/ort-wasm-simd-threaded.wasm.gz"
echo "tarball sha256:  $(sha256sum "onnxruntime-web-$VERSION.tgz" | cut -d' ' -f1)"
echo "bundle sha256:   $(sha256sum package/dist/ort.wasm.bundle.min.mjs | cut -d' ' -f1)"
echo "wasm sha256:     $(sha256sum package/dist/ort-wasm-simd-threaded.wasm | cut -d' ' -f1) (inflated)"
echo "Put these in $DEST/VENDORED.json."
