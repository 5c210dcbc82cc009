// The map's view: data <-> plot-area pixels (y up), fitted to the data, with pan and zoom.
export class View {
  constructor() {
    this.w = 1;
    this.h = 1;
    this.sx = 1;
    this.sy = 1;
    this.ox = 0;
    this.oy = 0;
    this.equal = false;
  }

  px(x) {
    return this.ox + x * this.sx;
  }

  py(y) {
    return this.oy - y * this.sy;
  }

  dataX(px) {
    return (px - this.ox) / this.sx;
  }

  dataY(py) {
    return (this.oy - py) / this.sy;
  }

  // Show [x0, x1] x [y0, y1] (padded by 4 %) in the w x h plot area; equal: one scale for both axes.
  fit(b, pad = 0.04) {
    let [x0, x1, y0, y1] = b;
    const dx = Math.max(x1 - x0, 1e-9);
    const dy = Math.max(y1 - y0, 1e-9);
    x0 -= dx * pad;
    x1 += dx * pad;
    y0 -= dy * pad;
    y1 += dy * pad;
    this.sx = this.w / (x1 - x0);
    this.sy = this.h / (y1 - y0);
    if (this.equal) this.sx = this.sy = Math.min(this.sx, this.sy);
    this.ox = this.w / 2 - ((x0 + x1) / 2) * this.sx;
    this.oy = this.h / 2 + ((y0 + y1) / 2) * this.sy;
  }

  visible() {
    return [this.dataX(0), this.dataX(this.w), this.dataY(this.h), this.dataY(0)];
  }

  // A new plot size keeps the centre and the scale (a transient resize during a rerun must
  // not change the zoom); the map refits instead while the user has not moved the view.
  resize(w, h) {
    const cx = this.dataX(this.w / 2), cy = this.dataY(this.h / 2);
    this.w = w;
    this.h = h;
    this.center(cx, cy);
  }

  zoom(px, py, f) {
    this.moved = true;
    const x = this.dataX(px);
    const y = this.dataY(py);
    this.sx *= f;
    this.sy *= f;
    this.ox = px - x * this.sx;
    this.oy = py + y * this.sy;
  }

  pan(dx, dy) {
    this.moved = true;
    this.ox += dx;
    this.oy += dy;
  }

  center(x, y) {
    this.ox = this.w / 2 - x * this.sx;
    this.oy = this.h / 2 + y * this.sy;
  }
}

// About n round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten).
export function ticks(lo, hi, n = 6) {
  const span = hi - lo;
  if (!(span > 0) || !isFinite(span)) return [];
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export function bounds(xy, n) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return n ? [x0, x1, y0, y1] : [-1, 1, -1, 1];
}
