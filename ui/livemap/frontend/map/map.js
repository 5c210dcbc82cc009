// The latent map: points from assets, coloured by class or a value, overlays, a training
// film, and (interact.js) hover with the real image, decoding under the pointer, selection.
// Points are drawn by points.js (WebGL on a GPU, else our own pixel code), images come from
// images.js (the app's image route, else static chunks), both sized for a million points.
import {array} from "../core/assets.js";
import {classColor, lut, rgba} from "../core/colors.js";
import {lift} from "../core/decoder.js";
import {Latest, decoderFailure, loadDecoder} from "../core/decoders.js";
import {el} from "../core/dom.js";
import {FilmPlayer} from "./film.js";
import {imageSource} from "./images.js";
import {record, refreshTip, showTip} from "./tip.js";
import {buildToolbar, setMode} from "./toolbar.js";
import {attach, prefetchView} from "./interact.js";
import {drawOverlays, drawRasters, overlayLegend, rasterCanvas} from "./overlays.js";
import {DecodePanel, Tooltip, legend} from "./panel.js";
import {PointIndex} from "./pick.js";
import {PointsPainter} from "./points.js";
import {MARGIN, drawAxes} from "./render.js";
import {decodeSelection, drawSelection, encodeSelection, selectionColors, thin} from "./selection.js";
import {View, bounds} from "./view.js";

const SIDE = 150; // px of the side panel (decoded image + legend)
const NARROW = 520; // below this width (a third of a page: Compare) the side panel goes under the plot

export class LatentMap {
  constructor(root, host) {
    this.host = host;
    this.view = new View();
    this.mode = "pan";
    this.args = null;
    this.hidden = new Set();
    this.hover = -1;
    this.drag = null;
    this.key = {};
    // Benchmark hooks: pointer -> hover drawn (and a synchronous decoder's image), input -> pan/zoom
    // frame drawn, draw durations and what drew them, pointer -> the real image on screen (0-ish when
    // it was fetched ahead); decoded: event -> the decoded image drawn, whichever decoder (an ONNX one
    // answers asynchronously); decoderReady: ms to load one.
    this.metrics = {pointer: [], pointerFrame: [], decoded: [], decodedFrame: [], firstDraw: null, firstShown: null, draws: [], drawKinds: [], gesture: [], chunkWait: [], imageWait: []};
    this.metrics.decoderReady = [];
    this.box = el(root, "div", "lm-map");
    this.titleBox = el(this.box, "div", "lm-title");
    this.toolbar = el(this.box, "div", "lm-toolbar");
    const body = el(this.box, "div", "lm-body");
    this.plot = el(body, "div", "lm-plot");
    this.layers = ["back", "points", "front", "hover"].map((name) => {
      const c = el(this.plot, "canvas", "lm-layer");
      c.dataset.layer = name;
      if (name === "back") c.style.display = "none"; // a scratch layer: its pixels go under the points
      return c;
    });
    this.glLayer = document.createElement("canvas"); // WebGL's points, between the background and the overlays
    this.glLayer.className = "lm-layer";
    this.glLayer.dataset.layer = "gl";
    this.glLayer.style.display = "none";
    this.plot.insertBefore(this.glLayer, this.layers[2]);
    this.painter = null;
    this.tip = new Tooltip(this.plot);
    this.side = el(body, "div", "lm-side");
    this.decodeBox = el(this.side, "div");
    this.legendBox = el(this.side, "div", "lm-legend");
    this.filmBox = el(this.box, "div");
    this.status = null;
    buildToolbar(this);
    attach(this);
    new ResizeObserver(() => this.resize()).observe(this.plot);
    window.addEventListener("resize", () => this.resize()); // the page (and so the iframe) got wider or narrower
  }

  setMode(m) {
    setMode(this, m);
  }

  // New arguments from a rerun: load what changed (assets by name, so usually nothing), redraw.
  async update(args) {
    const prev = this.args || {};
    this.args = args;
    const base = args.assets;
    const same = (k) => JSON.stringify(prev[k]) === JSON.stringify(args[k]);
    const newPoints = !same("points");
    if (!this.painter) this.painter = new PointsPainter(this.glLayer, args.renderer || "auto");
    if (newPoints) {
      const t0 = performance.now();
      const [xy, labels] = await Promise.all([array(base, args.points.xy), array(base, args.points.labels)]);
      this.metrics.fetchMs = performance.now() - t0;
      // Another projection of the same points keeps the selection (the page sends none: "keep yours");
      // other data come with the page's own selection command.
      const keep = this.selected && this.selected.length === args.points.n;
      Object.assign(this, {xy, labels, n: args.points.n, classes: args.points.classes, pos: xy});
      if (!keep) {
        this.selected = new Uint8Array(this.n);
        this.selCount = 0;
      }
      this.fitPending = true;
    }
    if (!same("images")) this.images = args.images ? imageSource(base, args.images, () => refreshTip(this)) : null;
    if (!same("decoder") || !same("lift")) {
      const loading = this.loadDecoder(base, args);
      if (!args.decoder || args.decoder.kind === "mlp") await loading; // ready at once; an ONNX one draws when it is
    }
    if (!same("values")) this.values = args.values ? await array(base, args.values) : null;
    if (newPoints || !same("film")) await this.loadFilm(base, args.film);
    if (!same("visible")) this.hidden = new Set(args.visible ? this.classes.map((_, c) => c).filter((c) => !args.visible.includes(c)) : []);
    if (!same("selection") && args.selection) this.adoptSelection(args.selection);
    if (!same("overlays")) this.rasters = new Map(args.overlays.map((o, k) => [k, o.type === "raster" ? rasterCanvas(o) : null]));
    if (!same("equal") || !same("bounds")) {
      this.view.equal = args.equal;
      this.fitPending = true;
    }
    if (newPoints || !same("film")) this.fitPending = true;
    this.titleBox.textContent = args.title || "";
    this.titleBox.style.display = args.title ? "block" : "none";
    this.plot.style.height = `${args.height}px`;
    this.recolor();
    this.resize();
    if (!same("highlight") && args.highlight !== null) this.jumpTo(args.highlight);
    this.drawLegend();
    if (newPoints || !same("images")) prefetchView(this, true);
  }

  // The decoder under the pointer. An ONNX decoder starts onnxruntime-web (a second or two, once
  // per iframe) while the points are already drawn; one it cannot run leaves the map working
  // without decoding, says why in the panel, and tells the page (component.py: decoder_error).
  async loadDecoder(base, args) {
    const token = (this.decoderToken = {});
    this.decoder = this.latest = null;
    this.decodeBox.innerHTML = "";
    this.panel = null;
    const spec = JSON.stringify(args.decoder);
    if (this.loaded && (!args.decoder || !args.lift || spec !== this.loaded.spec)) {
      this.loaded.decoder.release(); // another decoder (or none): free this one's session
      this.loaded = null;
    }
    if (!args.decoder || !args.lift) return;
    const [c, h, w] = args.decoder.image_shape;
    const panel = new DecodePanel(this.decodeBox, h, w, c);
    const t0 = performance.now();
    let decoder;
    try {
      decoder = this.loaded ? this.loaded.decoder : await loadDecoder(base, args.decoder); // a new lift: the same decoder
    } catch (err) {
      if (token !== this.decoderToken) return;
      console.warn("livemap: decoder", err);
      const failure = decoderFailure(args.decoder, err);
      panel.fail(failure.decoder_error);
      this.host.send(failure);
      return;
    }
    if (token !== this.decoderToken) {
      if (!this.loaded || this.loaded.decoder !== decoder) decoder.release(); // newer arguments replaced it meanwhile
      return;
    }
    if (!this.loaded) this.loaded = {spec, decoder};
    this.metrics.decoderReady.push(performance.now() - t0);
    this.decoder = decoder;
    this.latest = new Latest(decoder);
    this.zbuf = new Float64Array(decoder.dim);
    this.panel = panel;
    panel.ready(decoder.kind);
    if (this.xy && !panel.shown) this.decodeAt(...(this.pointer || [0, 0]));
  }

  async loadFilm(base, film) {
    this.film = null;
    this.filmBox.innerHTML = "";
    this.filmBox.className = "";
    this.pos = this.xy;
    if (!film) return;
    const frames = await array(base, film.frames);
    this.film = new FilmPlayer(this.filmBox, film, frames, this.n, (pos) => {
      this.pos = pos;
      this.index = null;
      this.draw();
    });
    this.film.show(this.film.e - 1);
    const b = bounds(frames, frames.length / 2);
    this.filmBounds = b;
  }

  // Per-point RGBA: class colours (dimmed classes light grey) or a value through its scale;
  // the draw order puts dimmed points first (typed arrays: a million points, no JS lists).
  recolor() {
    const n = this.n, colors = new Uint8Array(4 * n), pickable = new Uint8Array(n), order = new Int32Array(n);
    const alpha = n > 20000 ? 150 : 200;
    const v = this.args.values, table = v ? lut(v.scale) : null;
    const pal = this.classes.map((_, c) => rgba(classColor(c)));
    let dimmed = 0;
    for (let i = 0; i < n; i++) {
      const c = this.labels[i];
      if (this.hidden.has(c)) {
        colors.set([190, 190, 190, 60], 4 * i);
        order[dimmed++] = i;
        continue;
      }
      pickable[i] = 1;
      if (table) {
        const x = this.values[i];
        if (!Number.isFinite(x)) colors.set([150, 150, 150, alpha], 4 * i);
        else {
          const k = Math.round(255 * Math.min(1, Math.max(0, (x - v.vmin) / (v.vmax - v.vmin))));
          colors.set([table[3 * k], table[3 * k + 1], table[3 * k + 2], alpha], 4 * i);
        }
      } else {
        const [r, g, b] = pal[c];
        colors.set([r, g, b, alpha], 4 * i);
      }
    }
    for (let i = 0, k = dimmed; i < n; i++) if (pickable[i]) order[k++] = i;
    this.colors = colors;
    this.selColors = null;
    this.pickable = pickable;
    this.order = order;
    this.index = null;
  }

  selectionColors() {
    return selectionColors(this);
  }

  pointIndex() {
    if (!this.index) {
      const t0 = performance.now();
      this.index = new PointIndex(this.pos, this.n, this.pickable);
      this.metrics.indexMs = performance.now() - t0;
    }
    return this.index;
  }

  fitView() {
    this.view.moved = false;
    this.view.fit(this.args.bounds || (this.film ? this.filmBounds : bounds(this.pos, this.n)));
    this.draw();
  }

  resize() {
    if (this.box.clientWidth < 120) return; // hidden or collapsed for a moment: keep the view
    const narrow = this.box.clientWidth < NARROW;
    this.box.classList.toggle("lm-narrow", narrow);
    const w = narrow ? this.box.clientWidth : this.box.clientWidth - SIDE - 8, h = this.args ? this.args.height : 400;
    this.plot.style.width = `${w}px`;
    this.dpr = window.devicePixelRatio || 1;
    for (const c of [...this.layers, this.glLayer]) {
      c.width = Math.round(w * this.dpr);
      c.height = Math.round(h * this.dpr);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    this.view.resize(w - MARGIN.left - MARGIN.right, h - MARGIN.top - MARGIN.bottom);
    if ((this.fitPending || !this.view.moved) && this.xy) {
      this.fitPending = false;
      this.fitView();
    } else this.draw();
    this.host.height(this.box.offsetHeight + 4);
  }

  draw() {
    if (this.frame || !this.xy) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      const t0 = performance.now();
      this.drawNow();
      const t1 = performance.now();
      record(this.metrics.draws, t1 - t0);
      record(this.metrics.drawKinds, this.painter.last);
      if (this.inputAt) record(this.metrics.gesture, t1 - this.inputAt);
      this.inputAt = 0;
      if (this.metrics.firstDraw === null) {
        this.metrics.firstDraw = performance.now();
        document.body.dataset.drawn = "1";
        // the next frame begins once the drawn one was handed to the compositor: "on screen"
        // (bench/: the page's own clock; a test driver's polling sees it up to a second later)
        requestAnimationFrame(() => (this.metrics.firstShown = performance.now()));
      }
    });
  }

  ctx(k) {
    const ctx = this.layers[k].getContext("2d", {willReadFrequently: k === 0});
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.layers[k].width, this.layers[k].height);
    return ctx;
  }

  drawNow() {
    const theme = this.host.theme;
    // The background layer (fill, grid, rasters) is drawn on a hidden canvas, read back, and
    // the points are drawn into those pixels (points.js): one opaque layer. With WebGL the
    // points go on their own layer above it instead.
    const back = this.ctx(0);
    back.fillStyle = theme.bg;
    back.fillRect(0, 0, this.layers[0].width, this.layers[0].height);
    drawAxes(back, this.view, this.args.axis_labels, theme, true);
    drawRasters(back, this.view, this.args.overlays, this.rasters);
    const pts = this.layers[1];
    const img = back.getImageData(0, 0, pts.width, pts.height);
    const d = this.dpr, plot = {x: Math.round(MARGIN.left * d), y: Math.round(MARGIN.top * d)};
    plot.w = Math.round(this.view.w * d);
    plot.h = Math.round(this.view.h * d);
    this.painter.paint(this, img, plot);
    pts.getContext("2d").putImageData(img, 0, 0);
    const front = this.ctx(2);
    drawSelection(this, front);
    drawOverlays(front, this.view, this.args.overlays);
    drawAxes(front, this.view, this.args.axis_labels, theme, false);
    this.drawHover();
    // Before any hover: the origin (the prior's mean; on PCA, the data mean), not the view's centre, which
    // on shared axes (Compare) can lie far outside a model's codes.
    if (this.panel && !this.panel.shown) this.decodeAt(0, 0);
    const sel = this.selCount ? ` · ${this.selCount.toLocaleString()} selected` : "";
    this.status.textContent = `${this.n.toLocaleString()} points${sel}${this.thinned || ""}`;
    this.status.title = `drawn with ${this.painter.last}`;
    this.box.dataset.renderer = this.painter.last;
  }

  drawHover() {
    const ctx = this.ctx(3);
    if (this.drag && this.drag.kind === "box") {
      const {x0, y0, x1, y1} = this.drag;
      ctx.fillStyle = "rgba(80,120,255,0.12)";
      ctx.strokeStyle = "rgba(60,90,220,0.9)";
      ctx.fillRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
    } else if (this.drag && this.drag.kind === "lasso") {
      ctx.fillStyle = "rgba(80,120,255,0.12)";
      ctx.strokeStyle = "rgba(60,90,220,0.9)";
      ctx.beginPath();
      this.drag.path.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }
    if (this.hover >= 0) {
      const x = MARGIN.left + this.view.px(this.pos[2 * this.hover]), y = MARGIN.top + this.view.py(this.pos[2 * this.hover + 1]);
      ctx.strokeStyle = this.host.theme.fg;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, 6, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  drawLegend() {
    legend(this.legendBox, {
      classes: this.classes,
      hidden: this.hidden,
      values: this.args.values,
      overlays: overlayLegend(this.args.overlays),
      onToggle: (c) => {
        this.hidden.has(c) ? this.hidden.delete(c) : this.hidden.add(c);
        this.recolor();
        this.drawLegend();
        this.draw();
      },
    });
  }

  // Selections: from the user (sent back) or restored from the arguments (echoed once, so the
  // page's event reports the restored selection, not an older one still held by Streamlit).
  select(list, trigger, echo = true) {
    const [kept, note] = thin(list);
    this.thinned = note;
    this.selected.fill(0);
    for (const i of kept) this.selected[i] = 1;
    this.selCount = kept.length;
    this.selList = kept.length <= 200 ? Array.from(kept) : null;
    this.selColors = null;
    this.draw();
    if (echo) {
      this.sentSelection = true;
      this.host.send({selection: encodeSelection(kept, this.n), trigger});
    }
  }

  adoptSelection(sel) {
    const list = decodeSelection(sel, this.n);
    const same = list.length === this.selCount && list.every((i) => this.selected[i]);
    if (!same) this.select(list, "restore", Boolean(this.sentSelection));
  }

  jumpTo(i) {
    if (!(i >= 0 && i < this.n)) return;
    const x = this.pos[2 * i], y = this.pos[2 * i + 1];
    const px = this.view.px(x), py = this.view.py(y);
    if (px < 0 || px > this.view.w || py < 0 || py > this.view.h) {
      this.view.center(x, y);
      this.view.moved = true;
    }
    this.draw();
  }

  // The decoder's image of map point (x, y); t0: the input event's time, for the metrics.
  decodeAt(x, y, t0) {
    if (!this.latest) return;
    const z = lift(this.args.lift, x, y, this.zbuf);
    const panel = this.panel;
    this.latest.request(z, (pixels) => {
      panel.show(pixels, x, y);
      if (!t0) return;
      record(this.metrics.decoded, performance.now() - t0);
      requestAnimationFrame(() => record(this.metrics.decodedFrame, performance.now() - t0));
    });
  }

  showTip(i, x, y, arrived, t0) {
    showTip(this, i, x, y, arrived, t0);
  }

  // Map coordinates -> this iframe's client coordinates (tests and the benchmark aim with it).
  toClient(x, y) {
    const r = this.plot.getBoundingClientRect();
    return [r.left + MARGIN.left + this.view.px(x), r.top + MARGIN.top + this.view.py(y)];
  }
}

