// The training film: frames [E, N, 2] of the points' positions after each epoch, played or
// scrubbed in the browser (positions interpolated between epochs), with the loss curves and a
// marker at the epoch shown.
import {PALETTE} from "./colors.js";

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
    this.chart.width = 260;
    this.chart.height = 64;
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

  drawChart() {
    const ctx = this.chart.getContext("2d"), W = this.chart.width, H = this.chart.height;
    ctx.clearRect(0, 0, W, H);
    const series = Object.entries(this.spec.losses || {});
    const all = series.flatMap(([, ys]) => ys.filter((y) => y !== null));
    if (!all.length) return;
    const lo = Math.min(...all), hi = Math.max(...all), span = hi - lo || 1;
    const x = (k) => 4 + ((W - 8) * k) / Math.max(1, this.e - 1);
    const y = (v) => H - 12 - ((H - 18) * (v - lo)) / span;
    series.forEach(([name, ys], s) => {
      ctx.strokeStyle = PALETTE[s % PALETTE.length];
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false;
      ys.forEach((v, k) => {
        if (v === null) return (pen = false);
        pen ? ctx.lineTo(x(k), y(v)) : ctx.moveTo(x(k), y(v));
        pen = true;
      });
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.font = "10px sans-serif";
      ctx.fillText(name, 6 + s * 80, H - 1);
    });
    ctx.strokeStyle = "#888";
    ctx.beginPath();
    ctx.moveTo(x(this.t), 0);
    ctx.lineTo(x(this.t), H - 10);
    ctx.stroke();
  }
}

export function el(parent, tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  parent.appendChild(e);
  return e;
}
