// Selections: how they look (the rest fades, a few get rings) and how they travel (a list, or
// a base64 bitmask above 2,000 points: the same encoding as ui/livemap/codec.py), at most
// SELECTION_MAX points (codec.py's limit: the server reads a bigger one as nothing selected).
import {MARGIN} from "./render.js";

export const SELECTION_MAX = 100_000;

// A selection within the limit: [indices, ""] or, thinned evenly, [every k-th, a note for the status line].
export function thin(list) {
  if (list.length <= SELECTION_MAX) return [list, ""];
  const step = Math.ceil(list.length / SELECTION_MAX), kept = [];
  for (let k = 0; k < list.length; k += step) kept.push(list[k]);
  const note = ` (1 in ${step} of the ${list.length.toLocaleString()} points in the shape: a selection holds at most ${SELECTION_MAX.toLocaleString()})`;
  return [kept, note];
}

// With a selection, the other points fade (as in plotly), so any number of selected points
// reads at a glance; a few selected points also get a ring.
export function selectionColors(map) {
  if (!map.selColors) {
    const c = map.colors.slice();
    for (let i = 0; i < map.n; i++) if (!map.selected[i]) c[4 * i + 3] = Math.round(c[4 * i + 3] * 0.18);
    map.selColors = c;
  }
  return map.selColors;
}

export function drawSelection(map, ctx) {
  const hi = map.args.highlight;
  if (!map.selCount && (hi === null || hi === undefined)) return;
  ctx.save();
  ctx.strokeStyle = map.host.theme.fg;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  const r = map.n > 20000 ? 2.5 : 4.5;
  for (const i of map.selList || []) {
    const x = MARGIN.left + map.view.px(map.pos[2 * i]), y = MARGIN.top + map.view.py(map.pos[2 * i + 1]);
    ctx.rect(x - r, y - r, 2 * r, 2 * r);
  }
  ctx.stroke();
  if (hi !== null && hi !== undefined) {
    ctx.strokeStyle = "#e00000";
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.arc(MARGIN.left + map.view.px(map.pos[2 * hi]), MARGIN.top + map.view.py(map.pos[2 * hi + 1]), 9, 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.restore();
}

export function encodeSelection(list, n) {
  if (list.length <= 2000) return {list: Array.from(list)};
  const bits = new Uint8Array(Math.ceil(n / 8));
  for (const i of list) bits[i >> 3] |= 1 << (i & 7);
  let s = "";
  for (let k = 0; k < bits.length; k += 8192) s += String.fromCharCode.apply(null, bits.subarray(k, k + 8192));
  return {bits: btoa(s), n};
}

export function decodeSelection(sel, n) {
  if (sel && Array.isArray(sel.list)) return sel.list.filter((i) => i >= 0 && i < n);
  if (sel && typeof sel.bits === "string") {
    const raw = atob(sel.bits), out = [];
    for (let i = 0; i < Math.min(n, raw.length * 8); i++) if (raw.charCodeAt(i >> 3) & (1 << (i & 7))) out.push(i);
    return out;
  }
  return [];
}
