// Decoders given as ONNX graphs (kind "onnx": a user's ONNX model, a convolutional VAE), run in
// the page by onnxruntime-web, shipped in ../vendor/onnxruntime-web/ (its WebAssembly CPU build,
// single-threaded: no SharedArrayBuffer, no cross-origin isolation, no worker, nothing fetched
// from the internet). The runtime loads on the first ONNX decoder of this iframe, never for an
// MLP. Whatever fails (no WebAssembly, the runtime's files, a graph it refuses) is an Error
// whose message says so in one line, marked scope "runtime" when the runtime itself failed.
import {bytes, href} from "./assets.js";

const VENDOR = new URL("../vendor/onnxruntime-web/", import.meta.url);
const RUNTIME = "ort.wasm.bundle.min.mjs"; // the runtime's JavaScript with its Emscripten glue inside
const WASM = "ort-wasm-simd-threaded.wasm.gz"; // its WebAssembly, gzipped here, inflated once per tab

let runtime = null;

// onnxruntime-web, once per iframe: its WebAssembly is fetched (and inflated) once per tab and kept
// by assets.js, then compiled here.
export function startRuntime() {
  if (!runtime) runtime = loadRuntime();
  return runtime;
}

async function loadRuntime() {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    throw runtimeError("this browser has no WebAssembly");
  }
  try {
    const [ort, wasm] = await Promise.all([import(new URL(RUNTIME, VENDOR).href), bytes(new URL(WASM, VENDOR).href, true)]);
    ort.env.wasm.wasmBinary = wasm; // given as bytes: the runtime fetches nothing itself
    ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which a Streamlit page lacks
    ort.env.wasm.proxy = false;
    ort.env.logLevel = "error";
    return ort;
  } catch (err) {
    throw runtimeError(`onnxruntime-web could not start (${firstLine(err)})`);
  }
}

// The runtime itself failed: no ONNX decoder can run in this browser (not this graph's fault).
function runtimeError(message) {
  const err = new Error(message);
  err.scope = "runtime";
  return err;
}

export class OnnxDecoder {
  // spec: OnnxDecoderArg (contract.js); the graph is fetched once and kept like every asset.
  static async create(base, spec) {
    const ort = await startRuntime();
    const graph = new Uint8Array(await bytes(href(base, spec.graph.file), spec.graph.gz));
    let session;
    try {
      session = await ort.InferenceSession.create(graph, {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
      });
    } catch (err) {
      throw new Error(`onnxruntime-web cannot load this decoder (${firstLine(err)})`);
    }
    if (!session.inputNames.includes(spec.input) || !session.outputNames.includes(spec.output)) {
      throw new Error(`the decoder's graph has no input "${spec.input}" or no output "${spec.output}"`);
    }
    return new OnnxDecoder(ort, session, spec);
  }

  constructor(ort, session, spec) {
    this.ort = ort;
    this.session = session;
    this.spec = spec;
    this.kind = "onnx";
    this.dim = spec.latent_dim;
    this.shape = spec.image_shape; // [C, H, W]
    this.pixels = spec.image_shape.reduce((a, b) => a * b, 1);
    this.logits = spec.output_kind === "logits";
  }

  // Free the session (its WebAssembly memory) once no run is using it; the decoder is unusable after.
  release() {
    if (this.released) return;
    this.released = true;
    if (!this.running) this.session.release().catch(() => {});
  }

  // z: array-like [D] -> Promise<Float32Array [C*H*W]> in [0, 1]. z is copied before the call
  // returns, so the caller may reuse its buffer at once.
  decode(z) {
    return this.decodeMany(Float32Array.from(z), 1);
  }

  // zs: Float32Array [n*D] -> Promise<Float32Array [n*C*H*W]> in [0, 1]: one run of the graph.
  async decodeMany(zs, n) {
    const input = new this.ort.Tensor("float32", zs.length === n * this.dim ? zs : zs.subarray(0, n * this.dim), [n, this.dim]);
    if (this.released) throw new Error("the decoder was released");
    let result;
    this.running = true;
    try {
      result = await this.session.run({[this.spec.input]: input}, [this.spec.output]);
    } catch (err) {
      throw new Error(`the decoder failed to run (${firstLine(err)})`);
    } finally {
      this.running = false;
      if (this.released) this.session.release().catch(() => {});
    }
    const t = result[this.spec.output];
    if (!t || t.type !== "float32" || t.data.length !== n * this.pixels) {
      throw new Error(`the decoder gave ${t ? t.type + " [" + t.dims.join(", ") + "]" : "nothing"}, not float32 [${n}, ${this.shape.join(", ")}]`);
    }
    const out = t.data;
    if (this.logits) for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-out[i]));
    else for (let i = 0; i < out.length; i++) out[i] = out[i] > 1 ? 1 : out[i] >= 0 ? out[i] : 0; // NaN -> 0
    return out;
  }
}

function firstLine(err) {
  const text = String((err && err.message) || err || "unknown error").split("\n")[0];
  return text.length > 200 ? text.slice(0, 199) + "…" : text;
}
