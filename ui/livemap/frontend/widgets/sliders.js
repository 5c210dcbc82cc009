// Traverse sliders: one per latent dimension (in the order given) and the decoded image,
// redrawn by the in-browser decoder (an MLP in our JavaScript, any other in onnxruntime-web) on
// every input event while dragging. Positions go back to Python only on release (debounced for
// keyboard steps), so dragging costs no rerun at all.
import {paintImage} from "../core/decoder.js";
import {Latest, startDecoder} from "../core/decoders.js";
import {el} from "../core/dom.js";

const REPORT_MS = 300;

export class Sliders {
  constructor(root, host) {
    this.host = host;
    this.args = null;
    this.metrics = {slider: [], sliderFrame: [], decode: []};
    this.box = el(root, "div", "lm-sliders");
    this.list = el(this.box, "div", "lm-slider-list");
    const right = el(this.box, "div", "lm-slider-image");
    this.canvas = el(right, "canvas");
    this.canvas.dataset.testid = "lm-slider-canvas";
    el(right, "div", "lm-caption", "decoded in your browser");
    const reset = el(right, "button", "lm-btn", "Reset to start");
    reset.onclick = () => {
      this.setAll(this.args.base);
      this.redraw();
      this.report();
    };
  }

  async update(args) {
    const prev = this.args || {};
    this.args = args;
    const [lo, hi, step] = args.range;
    if (JSON.stringify(prev.decoder) !== JSON.stringify(args.decoder)) {
      if (this.decoder) this.decoder.release();
      this.decoder = await startDecoder(args.assets, args.decoder);
      this.latest = new Latest(this.decoder);
      const [, h, w] = args.decoder.image_shape;
      this.canvas.width = this.canvas.height = args.image_px;
      this.canvas.dataset.h = String(h);
      this.canvas.dataset.w = String(w);
    }
    if (JSON.stringify([prev.order, prev.names, prev.range]) !== JSON.stringify([args.order, args.names, args.range])) {
      this.build(args, lo, hi, step);
      this.setAll(args.base);
    } else if (JSON.stringify(prev.base) !== JSON.stringify(args.base)) this.setAll(args.base);
    this.redraw();
    document.body.dataset.drawn = "1";
    this.host.height(this.box.offsetHeight + 4);
  }

  build(args, lo, hi, step) {
    this.list.innerHTML = "";
    this.z = new Float64Array(args.base);
    this.inputs = new Map();
    for (const j of args.order) {
      const row = el(this.list, "label", "lm-slider");
      const name = el(row, "span", "lm-slider-name", args.names[j]);
      name.title = args.names[j];
      const input = el(row, "input");
      Object.assign(input, {type: "range", min: lo, max: hi, step});
      input.setAttribute("aria-label", args.names[j]);
      input.dataset.dim = String(j);
      const out = el(row, "span", "lm-slider-value");
      input.addEventListener("input", (ev) => {
        this.z[j] = +input.value;
        out.textContent = (+input.value).toFixed(2);
        this.redraw(ev.timeStamp);
      });
      input.addEventListener("change", () => this.report());
      this.inputs.set(j, [input, out]);
    }
  }

  setAll(base) {
    const [lo, hi] = this.args.range;
    this.z = Float64Array.from(base);
    for (const [j, [input, out]] of this.inputs) {
      input.value = String(Math.min(hi, Math.max(lo, base[j])));
      this.z[j] = +input.value;
      out.textContent = this.z[j].toFixed(2);
    }
  }

  // The image of the sliders' code; t0: the input event's time (slider: event -> image drawn).
  redraw(t0) {
    const d0 = performance.now();
    const [c, h, w] = this.args.decoder.image_shape;
    this.latest.request(this.z, (pixels) => {
      paintImage(this.canvas, pixels, h, w, false, c);
      const now = performance.now();
      this.metrics.decode.push(now - d0);
      this.canvas.dataset.painted = String(+this.canvas.dataset.painted + 1 || 1);
      if (t0) {
        this.metrics.slider.push(now - t0);
        requestAnimationFrame(() => this.metrics.sliderFrame.push(performance.now() - t0));
      }
    });
  }

  report() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.host.send({z: Array.from(this.z)}), REPORT_MS);
  }
}
