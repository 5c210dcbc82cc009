// Picking at 60k points: a uniform grid over the data (about 4 points per cell, stored as
// CSR arrays), so hover, box and lasso look only at the cells they touch.
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
