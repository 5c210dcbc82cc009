// Entry: one iframe = one widget (map, sliders or grid), kept alive across reruns.
// Every value sent back carries ready: true; the first one (unless Python already saw one) is
// the handshake that tells the page the browser can run this, so it need not fall back.
import {bytes, href, stats} from "./core/assets.js";
import {missingFeatures} from "./core/caps.js";
import {componentReady, onRender, setComponentValue, setFrameHeight} from "./core/protocol.js";

const WIDGETS = {map: ["./map/map.js", "LatentMap"], sliders: ["./widgets/sliders.js", "Sliders"], grid: ["./widgets/grid.js", "Grid"]};
const root = document.getElementById("root");
let widget = null;
let mode = null;
let handshake = false;
let queued = null;
let busy = false;
let seq = 0;
let failed = false;

const host = {
  theme: {bg: "#ffffff", fg: "#31333f", grid: "#ececf0", axis: "#b8b8c0"},
  state: {},
  send(fields) {
    Object.assign(this.state, fields);
    handshake = true;
    setComponentValue({...this.state, ready: true, seq: ++seq});
  },
  height(h) {
    setFrameHeight(h);
  },
};

function fail(message) {
  if (failed) return;
  failed = true;
  console.error("livemap:", message);
  root.textContent = `The live map could not start: ${message}`;
  setComponentValue({ready: false, error: String(message)});
}

// A widget that cannot work without its decoder (sliders, grid) and could not start it: the page
// decodes on the server instead (component.py falls back on decoder_error).
function failDecoder(failure) {
  if (failed) return;
  failed = true;
  console.warn("livemap: decoder", failure.decoder_error);
  root.textContent = `This browser cannot run the decoder: ${failure.decoder_error}`;
  setComponentValue({...failure, ready: false, seq: ++seq});
}

function applyTheme(theme) {
  if (!theme) return;
  const dark = theme.base === "dark";
  host.theme = {
    bg: theme.backgroundColor || host.theme.bg,
    fg: theme.textColor || host.theme.fg,
    grid: dark ? "rgba(255,255,255,0.08)" : "#ececf0",
    axis: dark ? "rgba(255,255,255,0.3)" : "#b8b8c0",
  };
  const s = document.documentElement.style;
  s.setProperty("--lm-bg", host.theme.bg);
  s.setProperty("--lm-fg", host.theme.fg);
  s.setProperty("--lm-panel", theme.secondaryBackgroundColor || "#f0f2f6");
  s.setProperty("--lm-accent", theme.primaryColor || "#ff4b4b");
  s.setProperty("--lm-font", theme.font || "sans-serif");
}

async function apply(args) {
  if (!widget || mode !== args.mode) {
    const [file, cls] = WIDGETS[args.mode];
    const mod = await import(file);
    root.innerHTML = "";
    host.state = {};
    widget = new mod[cls](root, host);
    mode = args.mode;
    window.livemap.widget = widget;
  }
  await widget.update(args);
  if (!args.ready_known && !handshake) host.send({});
}

async function drain() {
  if (busy) return;
  busy = true;
  while (queued && !failed) {
    const args = queued;
    queued = null;
    try {
      await apply(args);
    } catch (err) {
      if (err && err.decoderFailure) failDecoder(err.decoderFailure);
      else fail(err && err.message ? err.message : String(err));
    }
  }
  busy = false;
}

// component.py sends its arguments as one JSON string, `spec` (Streamlit would import pandas to check
// dict arguments for dataframes), beside `mode` and `ready_known`.
function unpack(args) {
  const spec = typeof args.spec === "string" ? JSON.parse(args.spec) : {};
  return {...spec, mode: args.mode, ready_known: args.ready_known};
}

// A map's first files, asked for the moment its arguments arrive: its own modules are still
// loading then (~0.15 s of a first draw here), and array() finds these requests in flight.
function prefetch(args) {
  if (args.mode !== "map" || !args.assets) return;
  const decoder = args.decoder && args.decoder.kind === "mlp" ? args.decoder.weights : null;
  for (const ref of [args.points && args.points.xy, args.points && args.points.labels, args.values, decoder]) {
    if (ref && typeof ref.file === "string") bytes(href(args.assets, ref.file), ref.gz).catch(() => {}); // reported by array()
  }
}

onRender((msg) => {
  applyTheme(msg.theme);
  const missing = missingFeatures();
  if (missing) {
    if (!failed) {
      failed = true;
      root.textContent = `This browser lacks ${missing}: showing the plain map instead.`;
      setComponentValue({ready: false, unsupported: `it lacks ${missing}`});
    }
    return;
  }
  queued = unpack(msg.args); // only the newest arguments matter: each update diffs against the last applied
  if (!widget) prefetch(queued);
  drain();
});

// Test and benchmark hooks (read-only views of the widget's state).
window.livemap = {widget: null, stats, started: performance.now()};
componentReady();
