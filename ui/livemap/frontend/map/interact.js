// Pointer input on the map: hover (the real image of the nearest point, and the decoder's image
// of the spot under the pointer), pan, wheel zoom, click / box / lasso selection.
// Hover work runs in the event handler itself: Chrome already delivers pointer moves once per
// frame, and an MLP decodes one image in well under a millisecond (an ONNX decoder answers
// asynchronously, the newest position first: core/decoders.js Latest).
import {MARGIN} from "./render.js";

const HOVER_PX = 8; // a point counts as hovered within this many pixels
const CLICK_PX = 4; // a press that moves less than this is a click

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
      map.draw();
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
  if (i >= 0) map.showTip(i, x, y);
  else map.tip.hide();
  if (map.decoder && inPlot) map.decodeAt(dx, dy, ev && ev.timeStamp);
  if (ev && ev.timeStamp) {
    const t0 = ev.timeStamp;
    record(map.metrics.pointer, performance.now() - t0);
    requestAnimationFrame(() => record(map.metrics.pointerFrame, performance.now() - t0));
  }
}

export function record(list, ms) {
  list.push(ms);
  if (list.length > 500) list.shift();
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
