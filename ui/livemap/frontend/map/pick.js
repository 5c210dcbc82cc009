// Picking and drawing at a million points: a uniform grid over the data (about 4 points per
// cell, stored as CSR arrays), so hover, box and lasso look only at the cells they touch, and
// the points in cell order (sxy, scol) that density.js draws with cache-friendly writes and
// whole rows of cells skipped outside the view.
import {bounds} from "./view.js";

export class PointIndex {
  constructor(xy, n, pickable) {
    this.xy = xy;
    this.n = n;
    this.pickable = pickable; // Uint8Array [n], 1 = can be hovered and selected
    const [x0, x1, y0, y1] = bounds(xy, n);
    this.g = Math.max(1, Math.min(1024, Math.ceil(Math.sqrt(n / 4))));
    this.x0 = x0;
    this.y0 = y0;
    this.cw = Math.max(x1 - x0, 1e-9) / this.g;
    this.ch = Math.max(y1 - y0, 1e-9) / this.g;
    const g = this.g;
    const cell = new Int32Array(n);
    const start = new Int32Array(g * g + 1);
    for (let i = 0; i < n; i++) {
      cell[i] = this.cellOf(xy[2 * i], xy[2 * i + 1]);
      start[cell[i] + 1]++;
    }
    for (let c = 0; c < g * g; c++) start[c + 1] += start[c];
    const fill = start.slice(0, g * g);
    this.items = new Int32Array(n);
    for (let i = 0; i < n; i++) this.items[fill[cell[i]]++] = i;
    this.start = start;
    this.sxy = new Float32Array(2 * n);
    for (let k = 0; k < n; k++) {
      const i = this.items[k];
      this.sxy[2 * k] = xy[2 * i];
      this.sxy[2 * k + 1] = xy[2 * i + 1];
    }
    this.scol = new Uint8Array(4 * n);
    this.colorsOf = null;
  }

  // The points' RGBA in cell order (kept until the colours change).
  sortColors(colors) {
    if (this.colorsOf === colors) return;
    const src = new Uint32Array(colors.buffer, colors.byteOffset, this.n), dst = new Uint32Array(this.scol.buffer);
    for (let k = 0; k < this.n; k++) dst[k] = src[this.items[k]];
    this.colorsOf = colors;
  }

  // Runs [k0, k1) of cell-ordered points whose cells meet the box [x0, x1, y0, y1]: one per row of cells.
  visibleRuns([x0, x1, y0, y1]) {
    const c0 = this.col(x0), c1 = this.col(x1), r0 = this.row(Math.min(y0, y1)), r1 = this.row(Math.max(y0, y1));
    const out = [];
    for (let r = r0; r <= r1; r++) out.push([this.start[r * this.g + c0], this.start[r * this.g + c1 + 1]]);
    return out;
  }

  col(x) {
    return Math.min(this.g - 1, Math.max(0, Math.floor((x - this.x0) / this.cw)));
  }

  row(y) {
    return Math.min(this.g - 1, Math.max(0, Math.floor((y - this.y0) / this.ch)));
  }

  cellOf(x, y) {
    return this.row(y) * this.g + this.col(x);
  }

  // Visit every pickable point in cells overlapping [x0, x1] x [y0, y1].
  each(x0, x1, y0, y1, visit) {
    const c0 = this.col(x0), c1 = this.col(x1), r0 = this.row(y0), r1 = this.row(y1);
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const k = r * this.g + c;
        for (let s = this.start[k]; s < this.start[k + 1]; s++) {
          const i = this.items[s];
          if (this.pickable[i]) visit(i);
        }
      }
    }
  }

  // The point nearest (x, y) within the ellipse of radii (rx, ry) (a pixel radius in data units), or -1.
  nearest(x, y, rx, ry) {
    let best = -1, bestD = 1;
    this.each(x - rx, x + rx, y - ry, y + ry, (i) => {
      const dx = (this.xy[2 * i] - x) / rx, dy = (this.xy[2 * i + 1] - y) / ry;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = i;
      }
    });
    return best;
  }

  // Up to k pickable points nearest (x, y) within the ellipse of radii (rx, ry), nearest first
  // (the images worth fetching before the pointer gets there). The window grows from an eighth
  // of the radius until it holds k points, so a dense spot costs what k points cost.
  near(x, y, rx, ry, k) {
    let found = [];
    for (let f = 0.125; f <= 1; f *= 2) {
      found = [];
      const ax = rx * f, ay = ry * f;
      this.each(x - ax, x + ax, y - ay, y + ay, (i) => {
        const dx = (this.xy[2 * i] - x) / rx, dy = (this.xy[2 * i + 1] - y) / ry;
        const d = dx * dx + dy * dy;
        if (d <= f * f) found.push(d, i);
      });
      if (found.length >= 2 * k) break;
    }
    const order = Array.from({length: found.length / 2}, (_, m) => m).sort((a, b) => found[2 * a] - found[2 * b]);
    return order.slice(0, k).map((m) => found[2 * m + 1]);
  }

  box(x0, x1, y0, y1) {
    const out = [];
    this.each(x0, x1, y0, y1, (i) => {
      const x = this.xy[2 * i], y = this.xy[2 * i + 1];
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) out.push(i);
    });
    return out;
  }

  // Points inside a polygon given as a flat [x0, y0, x1, y1, ...] array (even-odd rule).
  lasso(poly) {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let k = 0; k < poly.length; k += 2) {
      x0 = Math.min(x0, poly[k]);
      x1 = Math.max(x1, poly[k]);
      y0 = Math.min(y0, poly[k + 1]);
      y1 = Math.max(y1, poly[k + 1]);
    }
    const out = [];
    this.each(x0, x1, y0, y1, (i) => {
      if (inside(this.xy[2 * i], this.xy[2 * i + 1], poly)) out.push(i);
    });
    return out.sort((a, b) => a - b);
  }
}

export function inside(x, y, poly) {
  let c = false;
  const m = poly.length / 2;
  for (let a = 0, b = m - 1; a < m; b = a++) {
    const xa = poly[2 * a], ya = poly[2 * a + 1], xb = poly[2 * b], yb = poly[2 * b + 1];
    if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) c = !c;
  }
  return c;
}
