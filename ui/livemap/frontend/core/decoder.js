// The MLP decoder (kind "mlp") in plain JavaScript: Linear layers with ELU or ReLU between them
// and a sigmoid at the end (vae_core.model.mlp.VAE.decode: Bernoulli means, or the Gaussian's
// mean). 16-256-512-784 is ~0.54 M multiply-adds: a third of a millisecond per image here.
// Every other decoder is an ONNX graph (onnx.js); decoders.js gives both one interface.

export class MlpDecoder {
  constructor(spec, flat) {
    this.layers = [];
    let off = 0;
    for (const [nin, nout] of spec.layers) {
      const W = flat.subarray(off, off + nin * nout);
      off += nin * nout;
      const b = flat.subarray(off, off + nout);
      off += nout;
      this.layers.push({nin, nout, W, b, out: new Float32Array(nout)});
    }
    if (off !== flat.length) throw new Error(`decoder weights: ${flat.length} values for layers needing ${off}`);
    this.relu = spec.activation === "relu";
    this.dim = spec.layers[0][0];
    this.input = new Float32Array(this.dim);
    this.shape = spec.image_shape; // [C, H, W]
    this.pixels = this.layers[this.layers.length - 1].nout;
    this.kind = "mlp";
  }

  release() {} // nothing held outside JavaScript's own memory

  // zs: Float32Array [n*D] -> a new Float32Array [n*C*H*W] (the grid's rows; onnx.js runs them as one batch).
  async decodeMany(zs, n) {
    const out = new Float32Array(n * this.pixels);
    for (let k = 0; k < n; k++) out.set(this.decode(zs.subarray(k * this.dim, (k + 1) * this.dim)), k * this.pixels);
    return out;
  }

  // z: array-like [D] -> Float32Array [C*H*W] in [0, 1], synchronously (no promise: the pointer's
  // image is drawn in the event handler itself); the result is overwritten by the next call.
  decode(z) {
    this.input.set(z); // one element type throughout keeps the JIT's loads monomorphic
    let h = this.input;
    const last = this.layers.length - 1;
    for (let li = 0; li <= last; li++) {
      const {nin, nout, W, b, out} = this.layers[li];
      matvec(W, b, h, out, nin, nout);
      if (li === last) for (let j = 0; j < nout; j++) out[j] = 1 / (1 + Math.exp(-out[j]));
      else if (this.relu) for (let j = 0; j < nout; j++) out[j] = out[j] > 0 ? out[j] : 0;
      else for (let j = 0; j < nout; j++) out[j] = out[j] > 0 ? out[j] : Math.expm1(out[j]); // ELU, alpha = 1
      h = out;
    }
    return h;
  }
}

// out = W h + b, W [nout, nin] row-major. Four rows at a time with two accumulators each: every
// load of h serves four rows and the additions do not wait on each other (~1.6x a plain loop).
function matvec(W, b, h, out, nin, nout) {
  let j = 0;
  for (; j + 3 < nout; j += 4) {
    const ra = j * nin, rb = ra + nin, rc = rb + nin, rd = rc + nin;
    let a0 = 0, a1 = 0, b0 = 0, b1 = 0, c0 = 0, c1 = 0, d0 = 0, d1 = 0, i = 0;
    for (; i + 1 < nin; i += 2) {
      const h0 = h[i], h1 = h[i + 1];
      a0 += W[ra + i] * h0;
      a1 += W[ra + i + 1] * h1;
      b0 += W[rb + i] * h0;
      b1 += W[rb + i + 1] * h1;
      c0 += W[rc + i] * h0;
      c1 += W[rc + i + 1] * h1;
      d0 += W[rd + i] * h0;
      d1 += W[rd + i + 1] * h1;
    }
    if (i < nin) {
      const h0 = h[i];
      a0 += W[ra + i] * h0;
      b0 += W[rb + i] * h0;
      c0 += W[rc + i] * h0;
      d0 += W[rd + i] * h0;
    }
    out[j] = b[j] + a0 + a1;
    out[j + 1] = b[j + 1] + b0 + b1;
    out[j + 2] = b[j + 2] + c0 + c1;
    out[j + 3] = b[j + 3] + d0 + d1;
  }
  for (; j < nout; j++) {
    let s = b[j];
    for (let i = 0; i < nin; i++) s += W[j * nin + i] * h[i];
    out[j] = s;
  }
}

// z = center + x * components[0] + y * components[1]: the caller's linear lift of a map point.
export function lift(spec, x, y, out) {
  const {center, components} = spec;
  for (let d = 0; d < center.length; d++) out[d] = center[d] + x * components[0][d] + y * components[1][d];
  return out;
}

// Draw a decoded or stored image (values in [0, 1] or bytes; planar [C, H, W], C = 1 grey or
// 3 RGB) onto a canvas, scaled up crisply.
const scratch = document.createElement("canvas");
export function paintImage(canvas, pixels, h, w, isBytes = false, channels = 1) {
  if (scratch.width !== w || scratch.height !== h) {
    scratch.width = w;
    scratch.height = h;
  }
  const sctx = scratch.getContext("2d");
  const img = sctx.createImageData(w, h);
  const d = img.data, plane = h * w;
  const byte = isBytes ? (v) => v : (v) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  if (channels === 3) {
    for (let i = 0; i < plane; i++) {
      d[4 * i] = byte(pixels[i]);
      d[4 * i + 1] = byte(pixels[plane + i]);
      d[4 * i + 2] = byte(pixels[2 * plane + i]);
      d[4 * i + 3] = 255;
    }
  } else {
    for (let i = 0; i < plane; i++) {
      d[4 * i] = d[4 * i + 1] = d[4 * i + 2] = byte(pixels[i]);
      d[4 * i + 3] = 255;
    }
  }
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}
