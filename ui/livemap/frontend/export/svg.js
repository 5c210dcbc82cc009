// Export: PNG of the stacked canvases, and SVG through a small canvas-like context that
// records the same drawing calls (axes and overlays are vectors; points are vectors up to
// 20k visible, an embedded image above that).
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);
const f = (v) => +v.toFixed(2);

export class SvgContext {
  constructor(w, h) {
    this.w = w;
    this.h = h;
    this.parts = [];
    this.stack = [];
    this.d = "";
    this.fillStyle = "#000";
    this.strokeStyle = "#000";
    this.lineWidth = 1;
    this.font = "11px sans-serif";
    this.textAlign = "left";
    this.textBaseline = "alphabetic";
    this.globalAlpha = 1;
    this.dash = [];
    this.tf = "";
    this.clipId = null;
    this.nClip = 0;
    this.imageSmoothingEnabled = true;
  }

  save() {
    const {fillStyle, strokeStyle, lineWidth, font, textAlign, textBaseline, globalAlpha, dash, tf, clipId} = this;
    this.stack.push({fillStyle, strokeStyle, lineWidth, font, textAlign, textBaseline, globalAlpha, dash, tf, clipId});
  }

  restore() {
    Object.assign(this, this.stack.pop() || {});
  }

  setLineDash(d) {
    this.dash = d;
  }

  translate(x, y) {
    this.tf += ` translate(${f(x)} ${f(y)})`;
  }

  rotate(a) {
    this.tf += ` rotate(${f((a * 180) / Math.PI)})`;
  }

  beginPath() {
    this.d = "";
  }

  moveTo(x, y) {
    this.d += `M${f(x)} ${f(y)}`;
  }

  lineTo(x, y) {
    this.d += `L${f(x)} ${f(y)}`;
  }

  closePath() {
    this.d += "Z";
  }

  rect(x, y, w, h) {
    this.d += `M${f(x)} ${f(y)}h${f(w)}v${f(h)}h${f(-w)}Z`;
  }

  arc(x, y, r, a0, a1) {
    this.ellipse(x, y, r, r, 0, a0, a1);
  }

  ellipse(x, y, rx, ry, rot) {
    // Full ellipses only (all the map draws): two half arcs.
    const c = Math.cos(rot), s = Math.sin(rot), deg = f((rot * 180) / Math.PI);
    const ax = x + rx * c, ay = y + rx * s, bx = x - rx * c, by = y - rx * s;
    this.d += `M${f(ax)} ${f(ay)}A${f(rx)} ${f(ry)} ${deg} 1 1 ${f(bx)} ${f(by)}A${f(rx)} ${f(ry)} ${deg} 1 1 ${f(ax)} ${f(ay)}`;
  }

  attrs() {
    const t = this.tf ? ` transform="${this.tf.trim()}"` : "";
    const cl = this.clipId ? ` clip-path="url(#${this.clipId})"` : "";
    const a = this.globalAlpha < 1 ? ` opacity="${this.globalAlpha}"` : "";
    return t + cl + a;
  }

  clip() {
    this.clipId = `c${this.nClip++}`;
    this.parts.push(`<clipPath id="${this.clipId}"><path d="${this.d}"/></clipPath>`);
  }

  fill() {
    this.parts.push(`<path d="${this.d}" fill="${esc(this.fillStyle)}"${this.attrs()}/>`);
  }

  stroke() {
    const dash = this.dash.length ? ` stroke-dasharray="${this.dash.join(" ")}"` : "";
    this.parts.push(
      `<path d="${this.d}" fill="none" stroke="${esc(this.strokeStyle)}" stroke-width="${this.lineWidth}"${dash}${this.attrs()}/>`,
    );
  }

  strokeRect(x, y, w, h) {
    this.beginPath();
    this.rect(x, y, w, h);
    this.stroke();
  }

  fillRect(x, y, w, h) {
    this.beginPath();
    this.rect(x, y, w, h);
    this.fill();
  }

  text(s, x, y, paint) {
    const anchor = {left: "start", center: "middle", right: "end", start: "start", end: "end"}[this.textAlign];
    const base = {top: "hanging", middle: "central", bottom: "text-after-edge"}[this.textBaseline] || "auto";
    this.parts.push(
      `<text x="${f(x)}" y="${f(y)}" style="font:${esc(this.font)}" text-anchor="${anchor}" dominant-baseline="${base}" ${paint}${this.attrs()}>${esc(s)}</text>`,
    );
  }

  fillText(s, x, y) {
    this.text(s, x, y, `fill="${esc(this.fillStyle)}"`);
  }

  strokeText(s, x, y) {
    this.text(s, x, y, `fill="none" stroke="${esc(this.strokeStyle)}" stroke-width="${this.lineWidth}"`);
  }

  drawImage(canvas, x, y, w, h) {
    const href = canvas.toDataURL("image/png");
    this.parts.push(`<image href="${href}" x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}" preserveAspectRatio="none"${this.attrs()}/>`);
  }

  circles(list) {
    // list: [[x, y, r, css], ...]
    for (const [x, y, r, css] of list) this.parts.push(`<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${css}"${this.attrs()}/>`);
  }

  toString() {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${this.w}" height="${this.h}" viewBox="0 0 ${this.w} ${this.h}">${this.parts.join("")}</svg>`;
  }
}

export function download(name, blob) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

// The stacked canvases as one PNG (what the user sees, at device resolution).
export function pngBlob(canvases, background) {
  const [first] = canvases;
  const out = document.createElement("canvas");
  out.width = first.width;
  out.height = first.height;
  const ctx = out.getContext("2d");
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  for (const c of canvases) ctx.drawImage(c, 0, 0);
  return new Promise((resolve) => out.toBlob(resolve, "image/png"));
}
