// The manifold grid: n x n images over two latent dimensions, decoded in the browser row by
// row, each row one batch (the first rows show at once), with the two dimensions' values as axis
// ticks; a click reports the cell back.
import {paintImage} from "../core/decoder.js";
import {startDecoder} from "../core/decoders.js";
import {el} from "../core/dom.js";

const LEFT = 64, BOTTOM = 44; // px around the images: tick labels and the axis titles

export class Grid {
  constructor(root, host) {
    this.host = host;
    this.args = null;
    this.metrics = {grid: []};
    this.box = el(root, "div", "lm-grid");
    this.canvas = el(this.box, "canvas");
    this.canvas.dataset.testid = "lm-grid-canvas";
    this.canvas.dataset.left = String(LEFT); // where the images start: readers skip the tick labels
    this.caption = el(this.box, "div", "lm-caption");
    this.tile = document.createElement("canvas");
    this.canvas.addEventListener("click", (ev) => {
      const r = this.canvas.getBoundingClientRect(), scale = r.width / this.canvas.width; // CSS may shrink it
      const n = this.args.values.length, cell = this.args.cell_px * scale;
      const col = Math.floor((ev.clientX - r.left - LEFT * scale) / cell), row = Math.floor((ev.clientY - r.top) / cell);
      if (row >= 0 && row < n && col >= 0 && col < n) this.host.send({cell: [row, col]});
    });
  }

  async update(args) {
    const prev = this.args || {};
    this.args = args;
    if (JSON.stringify(prev.decoder) !== JSON.stringify(args.decoder)) {
      if (this.decoder) this.decoder.release();
      this.decoder = await startDecoder(args.assets, args.decoder);
    }
    this.caption.textContent = args.caption || "";
    const n = args.values.length, px = args.cell_px;
    this.canvas.width = LEFT + n * px;
    this.canvas.height = n * px + BOTTOM;
    this.drawAxes(args);
    this.host.height(this.box.offsetHeight + 4);
    this.render(args); // not awaited: newer arguments may interrupt it
  }

  // Rows top to bottom from high to low values on dims[0] (as vae_core.latent.manifold_grid).
  async render(args) {
    const token = (this.token = {});
    document.body.dataset.drawn = "0"; // a redraw is under way: readers wait for its end, not the last one's
    const t0 = performance.now();
    const [c, h, w] = args.decoder.image_shape, n = args.values.length, px = args.cell_px;
    const dec = this.decoder, d = dec.dim, size = dec.pixels;
    this.tile.width = px;
    this.tile.height = px;
    const ctx = this.canvas.getContext("2d");
    const zs = new Float32Array(n * d);
    const [a, b] = args.dims;
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < n; k++) {
        zs.set(args.base, k * d);
        zs[k * d + a] = args.values[n - 1 - r];
        zs[k * d + b] = args.values[k];
      }
      let row;
      try {
        row = await dec.decodeMany(zs, n);
      } catch (err) {
        if (token === this.token) this.caption.textContent = `The grid could not be decoded: ${err.message}`;
        return;
      }
      if (token !== this.token) return; // newer arguments arrived: stop this one
      for (let k = 0; k < n; k++) {
        paintImage(this.tile, row.subarray(k * size, (k + 1) * size), h, w, false, c);
        ctx.drawImage(this.tile, LEFT + k * px, r * px);
      }
      await new Promise((res) => setTimeout(res, 0)); // let the page breathe between rows
      if (token !== this.token) return;
    }
    this.metrics.grid.push(performance.now() - t0);
    document.body.dataset.drawn = "1";
  }

  // Tick labels at every k-th cell (k keeps them 40 px apart), and each axis named: rows run
  // from the highest value of dims[0] at the top, columns from the lowest value of dims[1].
  drawAxes(args) {
    const ctx = this.canvas.getContext("2d"), n = args.values.length, px = args.cell_px, H = n * px;
    const style = getComputedStyle(document.body);
    ctx.fillStyle = style.backgroundColor && style.backgroundColor !== "rgba(0, 0, 0, 0)" ? style.backgroundColor : "#ffffff";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.fillStyle = style.color || "#31333f";
    ctx.font = "12px sans-serif";
    const every = Math.max(1, Math.ceil(40 / px));
    const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let r = 0; r < n; r += every) ctx.fillText(fmt(args.values[n - 1 - r]), LEFT - 6, r * px + px / 2);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (let k = 0; k < n; k += every) ctx.fillText(fmt(args.values[k]), LEFT + k * px + px / 2, H + 4);
    const [rows, cols] = args.axes;
    ctx.font = "13px sans-serif";
    ctx.fillText(`${cols} →`, LEFT + (n * px) / 2, H + 24);
    ctx.save();
    ctx.translate(12, H / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(`${rows} →`, 0, 0);
    ctx.restore();
  }
}
