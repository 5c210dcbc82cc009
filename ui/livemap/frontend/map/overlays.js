// Overlays passed as small arguments: polylines (an interpolation path with start/end
// markers), labelled markers (your digit), points (prior samples), ellipses (posterior 1σ),
// a circle (the prior's 2σ) and shaded rasters (prior holes). Coordinates are map units.
import {rgba} from "../core/colors.js";
import {MARGIN, ellipsePath, marker} from "./render.js";

// A raster overlay as a canvas: its values become the colour's opacity.
export function rasterCanvas(o) {
  const c = document.createElement("canvas");
  c.width = o.w;
  c.height = o.h;
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(o.w, o.h);
  const raw = atob(o.data);
  const [r, g, b] = rgba(o.color);
  for (let i = 0; i < o.w * o.h; i++) {
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = Math.round(raw.charCodeAt(i) * o.alpha);
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

export function drawRasters(ctx, view, overlays, rasters) {
  overlays.forEach((o, k) => {
    if (o.type !== "raster") return;
    const [x0, x1, y0, y1] = o.extent;
    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, view.w, view.h);  // inside the plot only, like the other overlays
    ctx.clip();
    ctx.imageSmoothingEnabled = true;
    const X0 = MARGIN.left + view.px(x0), Y0 = MARGIN.top + view.py(y1);
    ctx.drawImage(rasters.get(k), X0, Y0, MARGIN.left + view.px(x1) - X0, MARGIN.top + view.py(y0) - Y0);
    ctx.restore();
  });
}

export function drawOverlays(ctx, view, overlays) {
  const ox = MARGIN.left, oy = MARGIN.top;
  ctx.save();
  ctx.beginPath();
  ctx.rect(ox, oy, view.w, view.h);
  ctx.clip();
  for (const o of overlays) {
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = o.color;
    ctx.lineWidth = o.width || 1.5;
    if (o.type === "polyline") polyline(ctx, view, o, ox, oy);
    else if (o.type === "markers") markers(ctx, view, o, ox, oy);
    else if (o.type === "ellipses") {
      ctx.beginPath();
      for (let m = 0; m < o.xy.length; m++) {
        const [a, b, c] = o.cov[m];
        ellipsePath(ctx, view, ox, oy, o.xy[m][0], o.xy[m][1], a, b, c, o.k);
      }
      ctx.stroke();
    } else if (o.type === "circle") {
      if (o.dash) ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ellipsePath(ctx, view, ox, oy, o.center[0], o.center[1], o.r * o.r, 0, o.r * o.r, 1);
      ctx.stroke();
    }
    ctx.restore();
  }
  ctx.restore();
}

function polyline(ctx, view, o, ox, oy) {
  const pts = o.xy.map(([x, y]) => [ox + view.px(x), oy + view.py(y)]);
  if (!pts.length) return;
  ctx.beginPath();
  pts.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.stroke();
  if (o.markers) {
    ctx.beginPath();
    for (const [x, y] of pts) {
      ctx.moveTo(x + 3, y);
      ctx.arc(x, y, 3, 0, 2 * Math.PI);
    }
    ctx.fill();
  }
  const ends = [[pts[0], o.start, "circle"], [pts[pts.length - 1], o.end, "square"]];
  for (const [[x, y], label, sym] of ends) {
    ctx.fillStyle = "#ffffff";
    ctx.lineWidth = 2;
    marker(ctx, sym, x, y, 11);
    ctx.fill();
    ctx.stroke();
    if (label) text(ctx, label, x + 9, y - 9, o.color);
  }
}

function markers(ctx, view, o, ox, oy) {
  o.xy.forEach(([x, y], k) => {
    const px = ox + view.px(x), py = oy + view.py(y);
    const how = marker(ctx, o.symbol, px, py, o.size);
    if (how === "fill") {
      ctx.fill();
      if (o.size >= 10) {
        ctx.save();
        ctx.strokeStyle = "#ffffff";
        ctx.lineWidth = 1;
        ctx.stroke();
        ctx.restore();
      }
    } else {
      ctx.lineWidth = Math.max(1, o.size / 6);
      ctx.stroke();
    }
    if (o.labels && o.labels[k]) text(ctx, o.labels[k], px + o.size / 2 + 3, py - o.size / 2, o.color);
  });
}

function text(ctx, s, x, y, color) {
  ctx.save();
  ctx.font = "bold 12px sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(255,255,255,0.85)";
  ctx.strokeText(s, x, y);
  ctx.fillStyle = color;
  ctx.fillText(s, x, y);
  ctx.restore();
}

// Legend rows for the overlays: [{name, color, kind}].
export function overlayLegend(overlays) {
  return overlays.filter((o) => o.name).map((o) => ({name: o.name, color: o.color, kind: o.type, symbol: o.symbol}));
}
