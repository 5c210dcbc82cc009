// The manifold grid: n x n images over two latent dimensions, decoded in the browser row by
// row, each row one batch (the first rows show at once); a click reports the cell back.
import {paintImage} from "../core/decoder.js";
import {startDecoder} from "../core/decoders.js";
import {el} from "../core/dom.js";

export class Grid {
  constructor(root, host) {
    this.host = host;
    this.args = null;
    this.metrics = {grid: []};
    this.box = el(root, "div", "lm-grid");
    this.canvas = el(this.box, "canvas");
    this.canvas.dataset.testid = "lm-grid-canvas";
    this.caption = el(this.box, "div", "lm-caption");
    this.tile = document.createElement("canvas");
    this.canvas.addEventListener("click", (ev) => {
      const r = this.canvas.getBoundingClientRect();
      const n = this.args.values.length, cell = r.width / n;
      const col = Math.floor((ev.clientX - r.left) / cell), row = Math.floor((ev.clientY - r.top) / cell);
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
    this.canvas.width = this.canvas.height = n * px;
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
        ctx.drawImage(this.tile, k * px, r * px);
      }
      await new Promise((res) => setTimeout(res, 0)); // let the page breathe between rows
      if (token !== this.token) return;
    }
    this.metrics.grid.push(performance.now() - t0);
    document.body.dataset.drawn = "1";
  }
}
