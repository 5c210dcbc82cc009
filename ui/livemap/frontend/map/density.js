// Drawing a million points on the CPU: bin, spread, shade (the datashader recipe).
// Stamping each point as an anti-aliased disc costs ~9 read-modify-writes per point; at a
// million points that is ~0.1-0.6 s a frame here. Binning adds each point's colour, weighted
// by its alpha, into its pixel (one pass over points stored in grid-cell order, so the
// writes stay in cache), a 3x3 kernel spreads each bin into a dot of about the stamp's size,
// and one pass over the plot's pixels composites the bins over the background:
// colour = sum(a c) / sum(a), coverage = 1 - exp(-k sum(a)), close to the result of
// "over"-blending the same points in a random order. Cost: ~O(points in view + plot pixels).
// Measured in headless Chromium here (README, "Performance"): 1,000,000 points in ~20-40 ms.

const LUT_STEPS = 64; // coverage table: sum(alpha) in steps of 1/64
const LUT_MAX = 24; // coverage is ~1 beyond this much summed alpha
// exp(-OPACITY * a) = 1 - a for one point of the large maps' alpha (150/255): one dot reads as a stamp's.
const OPACITY = -Math.log(1 - 150 / 255) / (150 / 255);
let coverage = null;

function coverageTable() {
  if (!coverage) {
    coverage = new Float32Array(LUT_MAX * LUT_STEPS + 1);
    for (let k = 0; k < coverage.length; k++) coverage[k] = 1 - Math.exp((-OPACITY * k) / LUT_STEPS);
  }
  return coverage;
}

export class DensityLayer {
  constructor() {
    this.acc = null;
    this.tmp = null;
    this.w = 0;
    this.h = 0;
  }

  buffers(w, h) {
    if (w !== this.w || h !== this.h) {
      this.w = w;
      this.h = h;
      this.acc = new Float32Array(4 * w * h);
      this.tmp = new Float32Array(4 * w * h);
    }
    this.acc.fill(0);
  }

  // index: PointIndex (points in cell order: sxy [2n], scol [4n] RGBA, per-row cell ranges);
  // img: opaque ImageData holding the background; plot: {x, y, w, h} device px. stride > 1
  // draws every stride-th point in cell order (a spatially even sample, each weighing stride
  // points): the frames of a pan or zoom gesture, redrawn in full once it pauses.
  draw(img, view, index, plot, dpr, stride = 1) {
    const w = plot.w, h = plot.h;
    if (w < 3 || h < 3) return 0;
    this.buffers(w, h);
    const acc = this.acc, sxy = index.sxy, scol = index.scol;
    const sx = view.sx * dpr, sy = view.sy * dpr, ox = view.ox * dpr, oy = view.oy * dpr;
    let drawn = 0, ymin = h, ymax = -1;
    for (const [k0, k1] of index.visibleRuns(view.visible())) {
      for (let k = k0 + ((stride - (k0 % stride)) % stride); k < k1; k += stride) {
        const px = (ox + sxy[2 * k] * sx + 0.5) | 0, py = (oy - sxy[2 * k + 1] * sy + 0.5) | 0;
        if (px < 1 || px >= w - 1 || py < 1 || py >= h - 1) continue;
        const p = (py * w + px) << 2, c = k << 2, a = scol[c + 3] * stride;
        acc[p] += a * scol[c];
        acc[p + 1] += a * scol[c + 1];
        acc[p + 2] += a * scol[c + 2];
        acc[p + 3] += a;
        if (py < ymin) ymin = py;
        if (py > ymax) ymax = py;
        drawn++;
      }
    }
    if (drawn) this.spreadAndShade(img, plot, ymin, ymax);
    return drawn;
  }

  // A separable [0.5, 1, 0.5] kernel (each bin becomes a dot of about 3x3 pixels) and the
  // compositing, fused: the horizontal pass into tmp, then per pixel the vertical pass and the
  // blend over the background, only on the rows points reached, skipping empty pixels.
  spreadAndShade(img, plot, ymin, ymax) {
    const w = plot.w, h = plot.h, a = this.acc, t = this.tmp, row = 4 * w;
    for (let y = Math.max(0, ymin - 2); y <= Math.min(h - 1, ymax + 2); y++) {  // rows beyond: no points, zeros
      const r = y * row;
      for (let x = 4; x < row - 4; x++) t[r + x] = a[r + x] + 0.5 * (a[r + x - 4] + a[r + x + 4]);
    }
    const buf = img.data, W = img.width, lut = coverageTable(), top = LUT_MAX * LUT_STEPS;
    for (let y = Math.max(1, ymin - 1); y <= Math.min(h - 2, ymax + 1); y++) {
      let p = y * row;
      let q = ((plot.y + y) * W + plot.x) * 4;
      for (let x = 0; x < w; x++, p += 4, q += 4) {
        const s = t[p + 3] + 0.5 * (t[p + 3 - row] + t[p + 3 + row]);
        if (s <= 0) continue;
        const k = (s * (LUT_STEPS / 255)) | 0;
        const cov = lut[k < top ? k : top], inv = cov / s, keep = 1 - cov;
        buf[q] = buf[q] * keep + (t[p] + 0.5 * (t[p - row] + t[p + row])) * inv;
        buf[q + 1] = buf[q + 1] * keep + (t[p + 1] + 0.5 * (t[p + 1 - row] + t[p + 1 + row])) * inv;
        buf[q + 2] = buf[q + 2] * keep + (t[p + 2] + 0.5 * (t[p + 2 - row] + t[p + 2 + row])) * inv;
      }
    }
  }
}
