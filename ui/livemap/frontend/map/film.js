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
    this.chart.width = 280;
    this.chart.height = 78;
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

  // Each series on its own scale (a KL of 6 beside a reconstruction of 150 would be flat), with
  // its value at the epoch shown in the label.
  drawChart() {
    const ctx = this.chart.getContext("2d"), W = this.chart.width, H = this.chart.height;
    ctx.clearRect(0, 0, W, H);
    const x = (k) => 4 + ((W - 8) * k) / Math.max(1, this.e - 1);
    const at = Math.round(this.t);
    Object.entries(this.spec.losses || {}).forEach(([name, ys], s) => {
      const vals = ys.filter((v) => v !== null);
      if (!vals.length) return;
      const lo = Math.min(...vals), span = Math.max(...vals) - lo || 1;
      const y = (v) => H - 14 - ((H - 20) * (v - lo)) / span;
      ctx.strokeStyle = ctx.fillStyle = PALETTE[s % PALETTE.length];
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false;
      ys.forEach((v, k) => {
        if (v === null) return (pen = false);
        pen ? ctx.lineTo(x(k), y(v)) : ctx.moveTo(x(k), y(v));
        pen = true;
      });
      ctx.stroke();
      ctx.font = "10px sans-serif";
      const v = ys[at];
      ctx.fillText(v === null || v === undefined ? name : `${name} ${(+v).toPrecision(4)}`, 4 + s * 95, H - 2);
    });
    ctx.strokeStyle = "#888";
    ctx.beginPath();
    ctx.moveTo(x(this.t), 0);
    ctx.lineTo(x(this.t), H - 12);
    ctx.stroke();
  }
}
