// The training film: frames [E, N, 2] of the points' positions after each epoch, played or
// scrubbed in the browser (positions interpolated between epochs), with the loss curves and a
// marker at the epoch shown.
import {PALETTE} from "../core/colors.js";
import {el} from "../core/dom.js";

export class FilmPlayer {
  constructor(host, spec, frames, n, onFrame) {
    this.spec = spec;
    this.frames = frames;
    this.n = n;
    this.e = spec.epochs.length;
    this.onFrame = onFrame;
    this.pos = new Float32Array(2 * n);
    this.t = this.e - 1;
    this.playing = false;
    host.innerHTML = "";
    host.className = "lm-film";
    this.button = el(host, "button", "lm-btn", "▶");
    this.button.title = "Play the training film";
    this.button.dataset.testid = "lm-play";
    this.slider = el(host, "input", "lm-scrub");
    Object.assign(this.slider, {type: "range", min: 0, max: this.e - 1, step: "any", value: this.t});
    this.slider.setAttribute("aria-label", "epoch");
    this.label = el(host, "span", "lm-epoch");
    this.chart = el(host, "canvas", "lm-loss");
    this.chart.width = 320;
    this.chart.height = 128;
    this.chart.setAttribute("aria-label", "validation losses per epoch");
    this.button.onclick = () => (this.playing ? this.stop() : this.play());
    this.slider.oninput = () => {
      this.stop();
      this.show(+this.slider.value);
    };
  }

  // Positions at fractional frame t (linear between frames k and k + 1).
  show(t) {
    this.t = Math.max(0, Math.min(this.e - 1, t));
    const k = Math.min(this.e - 2, Math.floor(this.t)), n2 = 2 * this.n;
    if (this.e === 1) this.pos.set(this.frames.subarray(0, n2));
    else {
      const a = this.frames.subarray(k * n2, (k + 1) * n2), b = this.frames.subarray((k + 1) * n2, (k + 2) * n2);
      const w = this.t - k;
      for (let i = 0; i < n2; i++) this.pos[i] = a[i] + (b[i] - a[i]) * w;
    }
    this.slider.value = this.t;
    const ep = this.spec.epochs[Math.round(this.t)];
    this.label.textContent = `epoch ${ep}`;
    this.drawChart();
    this.onFrame(this.pos);
  }

  play() {
    if (this.t >= this.e - 1) this.t = 0;
    this.playing = true;
    this.button.textContent = "❚❚";
    const rate = Math.max(2, this.e / 6); // frames per second: a whole film in about 6 s
    let last = performance.now();
    const step = (now) => {
      if (!this.playing) return;
      this.show(this.t + ((now - last) / 1000) * rate);
      last = now;
      if (this.t >= this.e - 1) this.stop();
      else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  stop() {
    this.playing = false;
    this.button.textContent = "▶";
  }

  // The loss chart in small, with the page's loss chart's colours and axes: the KL on its own
  // panel (a few nats beside a reconstruction of a hundred or more), every other series on one
  // shared, labelled axis (so −ELBO = reconstruction + KL lies visibly above the reconstruction),
  // epochs along the bottom, each series' value at the epoch shown in the legend.
  drawChart() {
    const ctx = this.chart.getContext("2d"), W = this.chart.width, H = this.chart.height;
    const L = 40, R = 6, TOP = 16, X_AXIS = 16;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "10px sans-serif";
    const losses = Object.entries(this.spec.losses || {}).filter(([, ys]) => ys.some((v) => v !== null));
    const colors = this.spec.colors || {};
    const color = (name, s) => colors[name] || PALETTE[s % PALETTE.length];
    const shared = losses.filter(([name]) => name !== "KL"), own = losses.filter(([name]) => name === "KL");
    const bottom = H - X_AXIS, split = own.length && shared.length ? bottom - 30 : bottom;
    const panels = [];
    if (shared.length) panels.push([shared, TOP, split - (own.length ? 6 : 0), "nats"]);
    if (own.length) panels.push([own, shared.length ? split : TOP, bottom, "KL"]);
    const x = (k) => L + ((W - L - R) * k) / Math.max(1, this.e - 1);
    for (const [series, y0, y1, title] of panels) this.panel(ctx, series, y0, y1, x, title, color, losses);
    this.xAxis(ctx, x, bottom, L, W - R);
    this.legend(ctx, losses, color, W);
    ctx.strokeStyle = "#888";
    ctx.beginPath();
    ctx.moveTo(x(this.t), TOP);
    ctx.lineTo(x(this.t), bottom);
    ctx.stroke();
  }

  // One panel: its series on one y scale, with the scale's ends labelled and a frame.
  panel(ctx, series, y0, y1, x, title, color, all) {
    const vals = series.flatMap(([, ys]) => ys.filter((v) => v !== null));
    const lo = Math.min(...vals), hi = Math.max(...vals), span = hi - lo || 1;
    const y = (v) => y1 - 2 - ((y1 - y0 - 4) * (v - lo)) / span;
    ctx.strokeStyle = "rgba(128,128,128,0.45)";
    ctx.lineWidth = 1;
    ctx.strokeRect(x(0), y0, x(this.e - 1) - x(0), y1 - y0);
    ctx.fillStyle = "#666";
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    ctx.fillText(fmt(hi), x(0) - 3, y0);
    ctx.textBaseline = "bottom";
    ctx.fillText(fmt(lo), x(0) - 3, y1);
    ctx.textBaseline = "middle";
    ctx.fillText(title, x(0) - 3, (y0 + y1) / 2);
    for (const [name, ys] of series) {
      ctx.strokeStyle = color(name, all.findIndex(([n]) => n === name));
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false;
      ys.forEach((v, k) => {
        if (v === null) return (pen = false);
        pen ? ctx.lineTo(x(k), y(v)) : ctx.moveTo(x(k), y(v));
        pen = true;
      });
      ctx.stroke();
    }
  }

  xAxis(ctx, x, y, left, right) {
    ctx.fillStyle = "#666";
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(String(this.spec.epochs[0]), x(0), y + 3);
    ctx.textAlign = "right";
    ctx.fillText(String(this.spec.epochs[this.e - 1]), x(this.e - 1), y + 3);
    ctx.textAlign = "center";
    ctx.fillText("epoch", (left + right) / 2, y + 3);
  }

  legend(ctx, losses, color, W) {
    const at = Math.round(this.t);
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    let px = 4;
    losses.forEach(([name, ys], s) => {
      const v = ys[at];
      const text = v === null || v === undefined ? name : `${name} ${fmt(+v)}`;
      ctx.fillStyle = color(name, s);
      ctx.fillText(text, px, 2);
      px += Math.min(W / 3, ctx.measureText(text).width + 12);
    });
  }
}

function fmt(v) {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(2);
}
