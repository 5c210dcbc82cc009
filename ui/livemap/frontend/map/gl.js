// The points drawn by WebGL: one gl.POINTS draw call over buffers uploaded once (positions,
// RGBA colours, the draw order as an index buffer), the view as two uniforms. On a GPU a
// million points take about a millisecond. Chromium without a GPU runs WebGL in SwiftShader, on
// the CPU, where the same draw took 600-900 ms a frame here (README, "Performance"), so the map
// uses this only where WebGL is hardware-accelerated (caps.js) or when asked to (renderer: "webgl").

const VS = `
attribute vec2 xy;
attribute vec4 rgba;
uniform vec2 scale;
uniform vec2 offset;
uniform float size;
varying vec4 color;
void main() {
  gl_Position = vec4(xy * scale + offset, 0.0, 1.0);
  gl_PointSize = size;
  color = rgba;
}`;

const FS = `
precision highp float;
varying vec4 color;
uniform float size;
void main() {
  vec2 q = gl_PointCoord * 2.0 - 1.0;
  float d = length(q) * size * 0.5;
  float a = color.a * clamp(size * 0.5 + 0.5 - d, 0.0, 1.0);
  if (a <= 0.0) discard;
  gl_FragColor = vec4(color.rgb * a, a);
}`;

function shader(gl, type, src) {
  const s = gl.createShader(type);
  gl.shaderSource(s, src);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`WebGL shader: ${gl.getShaderInfoLog(s)}`);
  return s;
}

export class GLPoints {
  // canvas: a layer of its own, above the background and below the overlays.
  constructor(canvas) {
    const opts = {antialias: false, premultipliedAlpha: true, preserveDrawingBuffer: true, alpha: true};
    const gl = canvas.getContext("webgl2", opts) || canvas.getContext("webgl", opts);
    if (!gl) throw new Error("no WebGL context");
    if (!(gl instanceof WebGL2RenderingContext) && !gl.getExtension("OES_element_index_uint")) {
      throw new Error("WebGL without 32-bit indices");
    }
    this.gl = gl;
    this.canvas = canvas;
    const prog = gl.createProgram();
    gl.attachShader(prog, shader(gl, gl.VERTEX_SHADER, VS));
    gl.attachShader(prog, shader(gl, gl.FRAGMENT_SHADER, FS));
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(`WebGL program: ${gl.getProgramInfoLog(prog)}`);
    gl.useProgram(prog);
    this.loc = {
      xy: gl.getAttribLocation(prog, "xy"),
      rgba: gl.getAttribLocation(prog, "rgba"),
      scale: gl.getUniformLocation(prog, "scale"),
      offset: gl.getUniformLocation(prog, "offset"),
      size: gl.getUniformLocation(prog, "size"),
    };
    this.buf = {xy: gl.createBuffer(), rgba: gl.createBuffer(), order: gl.createBuffer()};
    this.count = 0;
    this.sources = {};
  }

  // Upload what changed since the last draw (compared by identity: the map makes new arrays).
  sync(pos, colors, order) {
    const gl = this.gl, s = this.sources;
    if (s.pos !== pos) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.buf.xy);
      gl.bufferData(gl.ARRAY_BUFFER, pos, gl.DYNAMIC_DRAW);
      s.pos = pos;
    }
    if (s.colors !== colors) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.buf.rgba);
      gl.bufferData(gl.ARRAY_BUFFER, colors, gl.DYNAMIC_DRAW);
      s.colors = colors;
    }
    if (s.order !== order) {
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.buf.order);
      gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, new Uint32Array(order.buffer, order.byteOffset, order.length), gl.STATIC_DRAW);
      s.order = order;
      this.count = order.length;
    }
  }

  // Draw in the plot area {x, y, w, h} (device px of the canvas) with the view's transform.
  draw(view, plot, dpr, radius) {
    const gl = this.gl, c = this.canvas;
    gl.viewport(0, 0, c.width, c.height);
    gl.disable(gl.SCISSOR_TEST);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.SCISSOR_TEST);
    gl.scissor(plot.x, c.height - plot.y - plot.h, plot.w, plot.h);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    // clip = (plot.x + (view.ox + x sx) dpr) / W * 2 - 1, and y downwards in pixels, up in clip space
    gl.uniform2f(this.loc.scale, (2 * view.sx * dpr) / c.width, (2 * view.sy * dpr) / c.height);
    gl.uniform2f(this.loc.offset, (2 * (plot.x + view.ox * dpr)) / c.width - 1, 1 - (2 * (plot.y + view.oy * dpr)) / c.height);
    gl.uniform1f(this.loc.size, Math.max(1, 2 * radius * dpr));
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buf.xy);
    gl.enableVertexAttribArray(this.loc.xy);
    gl.vertexAttribPointer(this.loc.xy, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buf.rgba);
    gl.enableVertexAttribArray(this.loc.rgba);
    gl.vertexAttribPointer(this.loc.rgba, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.buf.order);
    gl.drawElements(gl.POINTS, this.count, gl.UNSIGNED_INT, 0);
  }

  // Wait for the GPU (benchmarks: a draw is not done when drawElements returns).
  finish() {
    const px = new Uint8Array(4);
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, px);
  }
}
