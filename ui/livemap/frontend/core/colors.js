// Class palette (the plotly map's, so both maps agree), continuous scales and CSS colour parsing.
export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

const SCALES = {
  viridis: ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"],
  magma: ["#000004", "#180f3d", "#440f76", "#721f81", "#9e2f7f", "#cd4071", "#f1605d", "#fd9668", "#feca8d", "#fcfdbf"],
  blues: ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"],
  rdbu: ["#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b"],
};

const probe = document.createElement("canvas").getContext("2d");
const parsed = new Map();

// Any CSS colour -> [r, g, b, a] with a in [0, 1].
export function rgba(css) {
  if (parsed.has(css)) return parsed.get(css);
  probe.fillStyle = "#000000";
  probe.fillStyle = css;
  const s = probe.fillStyle; // normalised: "#rrggbb" or "rgba(r, g, b, a)"
  let out;
  if (s[0] === "#") out = [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16), 1];
  else out = s.replace(/[^\d.,]/g, "").split(",").map(Number);
  if (out.length === 3) out.push(1);
  parsed.set(css, out);
  return out;
}

export function classColor(c) {
  return PALETTE[c % PALETTE.length];
}

// 256-entry RGB lookup table of a named scale.
export function lut(name) {
  const stops = (SCALES[name] || SCALES.viridis).map(rgba);
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
  }
  return out;
}

export function gradientCss(name) {
  const stops = SCALES[name] || SCALES.viridis;
  return `linear-gradient(to top, ${stops.join(", ")})`;
}
