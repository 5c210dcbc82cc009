// Pointer input on the map: hover (the real image of the nearest point, and the decoder's image
// of the spot under the pointer), pan, wheel zoom, click / box / lasso selection.
// Hover work runs in the event handler itself: Chrome already delivers pointer moves once per
// frame, and an MLP decodes one image in well under a millisecond (an ONNX decoder answers
// asynchronously, the newest position first: core/decoders.js Latest).
import {MARGIN} from "./render.js";
import {record} from "./tip.js";

const HOVER_PX = 8; // a point counts as hovered within this many pixels
const CLICK_PX = 4; // a press that moves less than this is a click
const AHEAD_PX = 40; // images of the points this close to the pointer are fetched before it gets there
const AHEAD_N = 96; // ... at most this many of them, nearest first
const VIEW_MAX = 3000; // a view showing at most this many points has all their images fetched

export function attach(map) {
  const plot = map.plot;
  const local = (ev) => {
    const r = plot.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  };
  plot.addEventListener("pointermove", (ev) => onMove(map, ev, ...local(ev)));
  plot.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0 || !map.xy) return;
    const [x, y] = local(ev);
    plot.setPointerCapture(ev.pointerId);
    const kind = ev.shiftKey && map.mode === "pan" ? "box" : map.mode;
    map.drag = {kind, x0: x, y0: y, x1: x, y1: y, path: [[x, y]], moved: 0};
    ev.preventDefault();
  });
  plot.addEventListener("pointerup", (ev) => {
    if (!map.drag) return;
    const [x, y] = local(ev);
    if (map.drag.kind === "pan") settleView(map);
    finish(map, map.drag, x, y);
    map.drag = null;
    map.drawHover();
  });
  plot.addEventListener("pointerleave", () => {
    if (map.drag) return;
    map.hover = -1;
    map.tip.hide();
    map.drawHover();
  });
  plot.addEventListener(
    "wheel",
    (ev) => {
      ev.preventDefault();
      const [x, y] = local(ev);
      map.view.zoom(x - MARGIN.left, y - MARGIN.top, Math.exp(-ev.deltaY * 0.0015));
      map.gestureAt = performance.now();
      map.inputAt = map.inputAt || ev.timeStamp;
      map.draw();
      settleView(map);
    },
    {passive: false},
  );
  plot.addEventListener("dblclick", () => map.fitView());
}

function onMove(map, ev, x, y) {
  if (!map.xy) return;
  const d = map.drag;
  if (d) {
    d.moved = Math.max(d.moved, Math.hypot(x - d.x0, y - d.y0));
    if (d.kind === "pan") {
      map.view.pan(x - d.x1, y - d.y1);
      map.gestureAt = performance.now();
      map.inputAt = map.inputAt || ev.timeStamp;
      map.draw();
    } else if (d.kind === "lasso") d.path.push([x, y]);
    d.x1 = x;
    d.y1 = y;
    if (d.kind !== "pan") map.drawHover();
    return;
  }
  hover(map, ev, x, y);
}

// The nearest point within HOVER_PX (its real image in the tooltip) and the decoder's image of
// the spot under the pointer, lifted to z = center + [x, y] @ components.
export function hover(map, ev, x, y) {
  const view = map.view;
  const dx = view.dataX(x - MARGIN.left), dy = view.dataY(y - MARGIN.top);
  map.pointer = [dx, dy];
  const inPlot = x >= MARGIN.left && x <= MARGIN.left + view.w && y >= MARGIN.top && y <= MARGIN.top + view.h;
  const i = inPlot ? map.pointIndex().nearest(dx, dy, HOVER_PX / view.sx, HOVER_PX / view.sy) : -1;
  if (i !== map.hover) {
    map.hover = i;
    map.drawHover();
  }
  if (i >= 0) map.showTip(i, x, y, false, ev && ev.timeStamp ? ev.timeStamp : performance.now());
  else map.tip.hide();
  if (inPlot) ahead(map, x, y);
  if (map.decoder && inPlot) map.decodeAt(dx, dy, ev && ev.timeStamp);
  if (ev && ev.timeStamp) {
    const t0 = ev.timeStamp;
    record(map.metrics.pointer, performance.now() - t0);
    requestAnimationFrame(() => record(map.metrics.pointerFrame, performance.now() - t0));
  }
}

// Fetch the images of the points the pointer is about to reach: around it, and along its path
// if it keeps its velocity for the next LOOKAHEAD frames (nearest first at each step).
const LOOKAHEAD = 8; // frames of 16 ms
function ahead(map, x, y, force = false) {
  if (!map.images || !map.xy) return;
  const last = map.aheadAt, now = performance.now();
  if (!force && last && Math.hypot(x - last[0], y - last[1]) < 3) return;
  const dt = last ? Math.max(8, now - last[2]) : 16;
  const vx = last && !force ? ((x - last[0]) / dt) * 16 : 0, vy = last && !force ? ((y - last[1]) / dt) * 16 : 0;
  map.aheadAt = [x, y, now];
  const view = map.view, index = map.pointIndex(), ids = [];
  const rx = AHEAD_PX / view.sx, ry = AHEAD_PX / view.sy;
  for (let f = 0; f <= LOOKAHEAD; f += 2) {
    const px = view.dataX(x + vx * f - MARGIN.left), py = view.dataY(y + vy * f - MARGIN.top);
    for (const i of index.near(px, py, rx, ry, f ? AHEAD_N / 8 : AHEAD_N / 2)) ids.push(i);
  }
  map.images.forgetBackground();
  map.images.want(ids, true);
  prefetchView(map);
}

// When the view shows few enough points (zoomed in), fetch all their images; `start`: also the
// points nearest the view's centre, so the first hover of a session finds its images warm.
export function prefetchView(map, start = false) {
  if (!map.images || !map.xy) return;
  const index = map.pointIndex(), [x0, x1, y0, y1] = map.view.visible();
  if (start) {
    const rx = (x1 - x0) / 6, ry = (y1 - y0) / 6;
    map.images.want(index.near((x0 + x1) / 2, (y0 + y1) / 2, rx, ry, 256), false);
  }
  let bound = 0;
  for (const [k0, k1] of index.visibleRuns([x0, x1, y0, y1])) bound += k1 - k0;
  if (bound > 4 * VIEW_MAX) return; // too many in view: the pointer's neighbourhood is enough
  const shown = index.box(x0, x1, Math.min(y0, y1), Math.max(y0, y1));
  if (shown.length <= VIEW_MAX) map.images.want(shown, false);
}

let settleTimer = null;
function settleView(map) {
  clearTimeout(settleTimer);
  settleTimer = setTimeout(() => prefetchView(map), 150);
}

function finish(map, d, x, y) {
  const view = map.view;
  const toData = ([px, py]) => [view.dataX(px - MARGIN.left), view.dataY(py - MARGIN.top)];
  if (d.moved < CLICK_PX) {
    const [dx, dy] = toData([x, y]);
    const i = map.pointIndex().nearest(dx, dy, HOVER_PX / view.sx, HOVER_PX / view.sy);
    if (i >= 0) map.select([i], "click");
    return;
  }
  if (d.kind === "box") {
    const [ax, ay] = toData([d.x0, d.y0]), [bx, by] = toData([x, y]);
    map.select(map.pointIndex().box(Math.min(ax, bx), Math.max(ax, bx), Math.min(ay, by), Math.max(ay, by)), "box");
  } else if (d.kind === "lasso" && d.path.length >= 3) {
    const poly = d.path.flatMap(toData);
    map.lastLasso = poly; // kept for tests: the polygon the selection was made with
    map.select(map.pointIndex().lasso(poly), "lasso");
  }
}
