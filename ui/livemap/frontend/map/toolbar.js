// The map's toolbar: pointer modes (pan, box, lasso), clear, reset view, PNG / SVG export, status line.
import {el} from "../core/dom.js";

export function buildToolbar(map) {
  const modes = [["pan", "Pan", "drag to pan, wheel to zoom, click a point to select it"],
    ["box", "Box", "drag a rectangle to select"], ["lasso", "Lasso", "draw around points to select"]];
  map.modeButtons = modes.map(([m, label, tip]) => {
    const b = el(map.toolbar, "button", "lm-btn", label);
    b.title = tip;
    b.dataset.mode = m;
    b.onclick = () => setMode(map, m);
    return b;
  });
  const clear = el(map.toolbar, "button", "lm-btn", "Clear");
  clear.onclick = () => map.select([], "clear");
  const reset = el(map.toolbar, "button", "lm-btn", "Reset view");
  reset.onclick = () => map.fitView();
  const png = el(map.toolbar, "button", "lm-btn", "PNG");
  png.onclick = () => import("../export/export.js").then((m) => m.exportPng(map));
  const svg = el(map.toolbar, "button", "lm-btn", "SVG");
  svg.onclick = () => import("../export/export.js").then((m) => m.exportSvg(map));
  map.status = el(map.toolbar, "span", "lm-status", "loading…");
  setMode(map, "pan");
}

export function setMode(map, m) {
  map.mode = m;
  for (const b of map.modeButtons) b.classList.toggle("lm-on", b.dataset.mode === m);
}
