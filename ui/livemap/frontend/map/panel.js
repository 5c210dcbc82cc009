// Beside and over the plot: the hover tooltip with the real image, the image decoded under the
// pointer, and the legend (classes you can dim by clicking, a colour bar, the overlays).
import {classColor, gradientCss} from "../core/colors.js";
import {paintImage} from "../core/decoder.js";
import {el} from "../core/dom.js";

export class Tooltip {
  constructor(parent) {
    this.box = el(parent, "div", "lm-tip");
    this.box.dataset.testid = "lm-tip";
    this.canvas = el(this.box, "canvas", "lm-tip-img");
    this.text = el(this.box, "div", "lm-tip-text");
    this.index = -1;
  }

  // Point i at plot pixel (x, y): its number, class, value and (once its chunk is here) its image.
  show(i, x, y, caption, pixels, h, w, bounds, channels = 1) {
    const scale = Math.max(1, Math.round(84 / Math.max(h, w)));
    if (this.canvas.width !== w * scale || this.canvas.height !== h * scale) {
      this.canvas.width = w * scale;
      this.canvas.height = h * scale;
    }
    this.index = i;
    this.box.dataset.index = String(i);
    this.box.dataset.scale = String(scale);
    this.canvas.dataset.scale = String(scale);
    this.text.textContent = caption;
    if (pixels) {
      paintImage(this.canvas, pixels, h, w, true, channels);
      this.box.dataset.loaded = "1";
    } else {
      const ctx = this.canvas.getContext("2d");
      ctx.fillStyle = "#444";
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
      this.box.dataset.loaded = "0";
    }
    this.box.style.display = "block";
    const bw = this.box.offsetWidth, bh = this.box.offsetHeight;
    const left = x + 14 + bw > bounds.w ? x - 14 - bw : x + 14;
    const top = Math.min(Math.max(0, y - bh / 2), bounds.h - bh);
    this.box.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
  }

  hide() {
    this.index = -1;
    this.box.style.display = "none";
    delete this.box.dataset.index;
  }
}

export class DecodePanel {
  constructor(parent, h, w, c = 1) {
    this.box = el(parent, "div", "lm-decode");
    this.box.dataset.testid = "lm-decode";
    el(this.box, "div", "lm-caption", "decoded under the pointer");
    const scale = Math.max(1, Math.round(112 / Math.max(h, w)));
    this.canvas = el(this.box, "canvas");
    this.canvas.width = w * scale;
    this.canvas.height = h * scale;
    this.canvas.dataset.scale = String(scale);
    this.where = el(this.box, "div", "lm-where", "loading the decoder…");
    this.h = h;
    this.w = w;
    this.c = c;
  }

  // The decoder is ready ("mlp": our JavaScript; "onnx": onnxruntime-web).
  ready(kind) {
    this.box.dataset.ready = "1";
    this.box.dataset.kind = kind;
    if (!this.shown) this.where.textContent = "move the pointer over the map";
  }

  // The decoder cannot run here: the map goes on without it.
  fail(reason) {
    this.box.dataset.ready = "0";
    this.box.dataset.error = reason;
    this.canvas.style.display = "none";
    this.where.textContent = `No decoding under the pointer: ${reason}.`;
  }

  show(pixels, x, y) {
    this.shown = true;
    paintImage(this.canvas, pixels, this.h, this.w, false, this.c);
    this.where.textContent = `at (${x.toFixed(2)}, ${y.toFixed(2)})`;
    this.box.dataset.x = String(x);
    this.box.dataset.y = String(y);
  }
}

// The legend; onToggle(c) runs when class c is clicked (dim / show it).
export function legend(parent, {classes, hidden, values, overlays, onToggle}) {
  parent.innerHTML = "";
  if (values) {
    el(parent, "div", "lm-legend-title", values.label);
    const bar = el(parent, "div", "lm-colorbar");
    const grad = el(bar, "div", "lm-colorbar-grad");
    grad.style.background = gradientCss(values.scale);
    const ticks = el(bar, "div", "lm-colorbar-ticks");
    el(ticks, "span", "", fmt(values.vmax));
    el(ticks, "span", "", fmt((values.vmin + values.vmax) / 2));
    el(ticks, "span", "", fmt(values.vmin));
  } else {
    el(parent, "div", "lm-legend-title", "class (click to dim)");
    classes.forEach((name, c) => {
      const row = el(parent, "div", "lm-legend-row" + (hidden.has(c) ? " lm-off" : ""));
      row.dataset.class = String(c);
      const sw = el(row, "span", "lm-swatch");
      sw.style.background = classColor(c);
      el(row, "span", "", name);
      row.onclick = () => onToggle(c);
    });
  }
  for (const o of overlays) {
    const row = el(parent, "div", "lm-legend-row lm-overlay");
    const sw = el(row, "span", "lm-swatch lm-swatch-" + o.kind);
    sw.style.borderColor = o.color;
    if (o.kind === "markers") sw.style.background = o.color;
    el(row, "span", "", o.name);
  }
}

function fmt(v) {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(+v.toFixed(2));
}
