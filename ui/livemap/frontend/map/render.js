// Drawing the map: points straight into pixels (60k points in a few ms, no per-point canvas
// calls), axes, overlays. Overlays and axes use only the canvas calls svg.js also implements,
// so the SVG export draws the same figure.
import {rgba} from "../core/colors.js";
import {ticks} from "./view.js";

export const MARGIN = {left: 54, right: 10, top: 10, bottom: 42};

const stamps = new Map();
// Offsets and anti-aliased coverage (0..256) of a disc of radius r (device pixels).
function stamp(r) {
  const key = Math.round(r * 4);
  if (!stamps.has(key)) {
    const out = [];
    const R = Math.ceil(r + 0.5);
    for (let dy = -R; dy <= R; dy++) {
      for (let dx = -R; dx <= R; dx++) {
        const cov = Math.min(1, Math.max(0, r + 0.5 - Math.hypot(dx, dy)));
        if (cov > 0) out.push(dx, dy, Math.round(cov * 256));
      }
    }
    stamps.set(key, {st: Int32Array.from(out), R});
  }
  return stamps.get(key);
}

// Points blended into an opaque ImageData that already holds the background layer, in
// `order`. Integer "over" blending on an opaque buffer needs no division: 60k points are a
// few milliseconds. colors: Uint8Array [4n] (alpha 0..255); plot: {x, y, w, h} in device px.
export function drawPoints(img, view, xy, order, colors, radius, plot, dpr) {
  const W = img.width, buf = img.data;
  const {st, R} = stamp(radius * dpr);
  const ns = st.length;
  const xmin = plot.x, xmax = plot.x + plot.w - 1, ymin = plot.y, ymax = plot.y + plot.h - 1;
  const ox = plot.x + view.ox * dpr, oy = plot.y + view.oy * dpr, sx = view.sx * dpr, sy = view.sy * dpr;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const cx = Math.round(ox + xy[2 * i] * sx), cy = Math.round(oy - xy[2 * i + 1] * sy);
    if (cx < xmin - R || cx > xmax + R || cy < ymin - R || cy > ymax + R) continue;
    const cr = colors[4 * i], cg = colors[4 * i + 1], cb = colors[4 * i + 2], ca = colors[4 * i + 3];
    const edge = cx < xmin + R || cx > xmax - R || cy < ymin + R || cy > ymax - R;
    for (let s = 0; s < ns; s += 3) {
      const x = cx + st[s], y = cy + st[s + 1];
      if (edge && (x < xmin || x > xmax || y < ymin || y > ymax)) continue;
      const p = (y * W + x) << 2, a = (ca * st[s + 2]) >> 8;
      buf[p] += ((cr - buf[p]) * a) >> 8;
      buf[p + 1] += ((cg - buf[p + 1]) * a) >> 8;
      buf[p + 2] += ((cb - buf[p + 2]) * a) >> 8;
    }
  }
}

// Gridlines, ticks, tick labels and axis titles around the plot area (CSS pixels).
export function drawAxes(ctx, view, labels, theme, gridOnly) {
  const {left, top} = MARGIN;
  const xs = ticks(view.dataX(0), view.dataX(view.w), Math.max(2, Math.round(view.w / 90)));
  const ys = ticks(view.dataY(view.h), view.dataY(0), Math.max(2, Math.round(view.h / 70)));
  ctx.save();
  if (gridOnly) {
    ctx.strokeStyle = theme.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const x of xs) {
      const px = Math.round(left + view.px(x)) + 0.5;
      ctx.moveTo(px, top);
      ctx.lineTo(px, top + view.h);
    }
    for (const y of ys) {
      const py = Math.round(top + view.py(y)) + 0.5;
      ctx.moveTo(left, py);
      ctx.lineTo(left + view.w, py);
    }
    ctx.stroke();
    ctx.restore();
    return;
  }
  ctx.strokeStyle = theme.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(left + 0.5, top + 0.5, view.w - 1, view.h - 1);
  ctx.fillStyle = theme.fg;
  ctx.font = "11px sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const x of xs) ctx.fillText(fmt(x), left + view.px(x), top + view.h + 4);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const y of ys) ctx.fillText(fmt(y), left - 5, top + view.py(y));
  ctx.font = "12px sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(labels[0] || "", left + view.w / 2, top + view.h + MARGIN.bottom - 2);
  ctx.save();
  ctx.translate(12, top + view.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "top";
  ctx.fillText(labels[1] || "", 0, -8);
  ctx.restore();
  ctx.restore();
}

function fmt(v) {
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(+v.toPrecision(4));
}

// A marker of `symbol` centred at (x, y), size in CSS pixels.
export function marker(ctx, symbol, x, y, size) {
  const r = size / 2;
  ctx.beginPath();
  if (symbol === "star") {
    for (let k = 0; k < 10; k++) {
      const rr = k % 2 ? r * 0.45 : r;
      const t = -Math.PI / 2 + (k * Math.PI) / 5;
      k ? ctx.lineTo(x + rr * Math.cos(t), y + rr * Math.sin(t)) : ctx.moveTo(x + rr * Math.cos(t), y + rr * Math.sin(t));
    }
    ctx.closePath();
  } else if (symbol === "diamond" || symbol === "square") {
    const q = symbol === "square" ? [[-r, -r], [r, -r], [r, r], [-r, r]] : [[0, -r], [r, 0], [0, r], [-r, 0]];
    q.forEach(([dx, dy], k) => (k ? ctx.lineTo(x + dx, y + dy) : ctx.moveTo(x + dx, y + dy)));
    ctx.closePath();
  } else if (symbol === "x" || symbol === "cross") {
    const q = symbol === "x" ? r * 0.8 : r;
    if (symbol === "x") {
      ctx.moveTo(x - q, y - q); ctx.lineTo(x + q, y + q); ctx.moveTo(x + q, y - q); ctx.lineTo(x - q, y + q);
    } else {
      ctx.moveTo(x - q, y); ctx.lineTo(x + q, y); ctx.moveTo(x, y - q); ctx.lineTo(x, y + q);
    }
    return "stroke";
  } else {
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
  return "fill";
}

// Ellipse of covariance [a, b; b, c] (data units) scaled by k sigma, in plot pixels.
export function ellipsePath(ctx, view, ox, oy, cx, cy, a, b, c, k) {
  // Map the covariance to pixels: S C S with S = diag(sx, -sy), then its eigen-decomposition.
  const pa = a * view.sx * view.sx, pb = -b * view.sx * view.sy, pc = c * view.sy * view.sy;
  const tr = (pa + pc) / 2, det = Math.sqrt(Math.max(0, ((pa - pc) / 2) ** 2 + pb * pb));
  const l1 = tr + det, l2 = Math.max(0, tr - det);
  const angle = Math.abs(pb) < 1e-12 ? (pa >= pc ? 0 : Math.PI / 2) : Math.atan2(l1 - pa, pb);
  ctx.moveTo(ox + view.px(cx) + k * Math.sqrt(l1) * Math.cos(angle), oy + view.py(cy) + k * Math.sqrt(l1) * Math.sin(angle));
  ctx.ellipse(ox + view.px(cx), oy + view.py(cy), k * Math.sqrt(l1), k * Math.sqrt(l2), angle, 0, 2 * Math.PI);
}

export function withAlpha(css, alpha) {
  const [r, g, b, a] = rgba(css);
  return `rgba(${r},${g},${b},${a * alpha})`;
}
