// PNG and SVG of the map, from the toolbar (loaded on first use).
import {classColor} from "../core/colors.js";
import {drawOverlays, drawRasters} from "../map/overlays.js";
import {MARGIN, drawAxes} from "../map/render.js";
import {SvgContext, download, pngBlob} from "./svg.js";

export async function exportPng(map) {
  const blob = await pngBlob(map.layers.slice(1, 3), map.host.theme.bg);
  download("latent-map.png", blob);
}

export function exportSvg(map) {
  const v = map.view, w = v.w + MARGIN.left + MARGIN.right, h = v.h + MARGIN.top + MARGIN.bottom;
  const ctx = new SvgContext(w, h);
  ctx.fillStyle = map.host.theme.bg;
  ctx.fillRect(0, 0, w, h);
  drawAxes(ctx, v, map.args.axis_labels, map.host.theme, true);
  drawRasters(ctx, v, map.args.overlays, map.rasters);
  const shown = [];
  for (const i of map.order) {
    const x = MARGIN.left + v.px(map.pos[2 * i]), y = MARGIN.top + v.py(map.pos[2 * i + 1]);
    if (x >= MARGIN.left && x <= MARGIN.left + v.w && y >= MARGIN.top && y <= MARGIN.top + v.h) shown.push([i, x, y]);
  }
  if (shown.length <= 20000) {
    const c = map.colors;
    const r = map.n > 3000 ? 2 : 3;
    ctx.circles(shown.map(([i, x, y]) => [x, y, r, `rgba(${c[4 * i]},${c[4 * i + 1]},${c[4 * i + 2]},${(c[4 * i + 3] / 255).toFixed(2)})`]));
  } else {
    ctx.drawImage(map.layers[1], 0, 0, w, h); // too many for vectors: the points layer as an image
  }
  drawOverlays(ctx, v, map.args.overlays);
  drawAxes(ctx, v, map.args.axis_labels, map.host.theme, false);
  legendSvg(ctx, map, w);
  download("latent-map.svg", new Blob([ctx.toString()], {type: "image/svg+xml"}));
}

function legendSvg(ctx, map, w) {
  if (map.args.values) return;
  ctx.font = "11px sans-serif";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  map.classes.forEach((name, c) => {
    const y = MARGIN.top + 10 + 14 * c;
    ctx.fillStyle = classColor(c);
    ctx.fillRect(w - MARGIN.right - 10, y - 4, 8, 8);
    ctx.fillStyle = map.host.theme.fg;
    ctx.fillText(name, w - MARGIN.right - 14, y);
  });
}
