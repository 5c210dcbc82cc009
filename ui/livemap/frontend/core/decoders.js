// The decoders the browser runs, behind one interface (the map, the sliders and the grid use
// only this): kind "mlp" in our own JavaScript (decoder.js), kind "onnx" in onnxruntime-web
// (onnx.js, loaded only for an ONNX decoder). Each decoder has
//   dim, shape [C, H, W], pixels, kind,
//   decode(z)          -> Float32Array [C*H*W] in [0, 1] (mlp: at once) or a Promise of it (onnx),
//   decodeMany(zs, n)  -> Promise<Float32Array [n*C*H*W]> (one batch: the grid's rows).
import {array} from "./assets.js";
import {MlpDecoder} from "./decoder.js";

export async function loadDecoder(base, spec) {
  if (spec.kind === "onnx") {
    const {OnnxDecoder} = await import("./onnx.js");
    return OnnxDecoder.create(base, spec);
  }
  return new MlpDecoder(spec, await array(base, spec.weights));
}

// What the browser reports to Python when a decoder cannot start (component.py reads it):
// scope "runtime" when onnxruntime-web itself failed (no ONNX decoder can run here), "graph" when
// only this decoder did; decoder_id names the decoder's file.
export function decoderFailure(spec, err) {
  return {
    decoder_error: String((err && err.message) || err).split("\n")[0].slice(0, 300),
    decoder_scope: err && err.scope === "runtime" ? "runtime" : "graph",
    decoder_id: spec.kind === "onnx" ? spec.graph.file : spec.weights.file,
  };
}

// For the sliders and the grid, which cannot work without their decoder: load it, or throw an
// Error carrying the failure for Python (main.js sends it: the page then decodes on the server).
export async function startDecoder(base, spec) {
  try {
    return await loadDecoder(base, spec);
  } catch (err) {
    const wrapped = new Error(String((err && err.message) || err));
    wrapped.decoderFailure = decoderFailure(spec, err);
    throw wrapped;
  }
}

// One decode at a time, the newest request wins: while an asynchronous decode runs, a newer
// request replaces the one waiting (a pointer moving faster than the decoder skips stale
// positions instead of queueing them). A synchronous decoder paints within request() itself.
export class Latest {
  constructor(decoder, onError = (err) => console.warn("livemap: decode", err)) {
    this.decoder = decoder;
    this.onError = onError;
    this.busy = false;
    this.waiting = null;
  }

  // paint(pixels) runs with this z's image (unless a newer request replaced it first).
  request(z, paint) {
    if (this.busy) {
      this.waiting = [Float32Array.from(z), paint];
      return;
    }
    const out = this.decoder.decode(z);
    if (!out || typeof out.then !== "function") {
      paint(out);
      return;
    }
    this.busy = true;
    out.then(paint, this.onError).finally(() => {
      this.busy = false;
      const next = this.waiting;
      this.waiting = null;
      if (next) this.request(...next);
    });
  }
}
