// How the points are drawn, chosen once per map by what this browser does fastest (measured,
// README "Performance"): WebGL where it runs on a GPU; on the CPU (no WebGL, or WebGL emulated
// by SwiftShader as in headless Chromium), our own pixel code: anti-aliased stamps up to
// STAMP_MAX points in view, binned density above (density.js).
import {webglKind} from "../core/caps.js";
import {DensityLayer} from "./density.js";
import {GLPoints} from "./gl.js";
import {drawPoints} from "./render.js";

export const STAMP_MAX = 150_000; // points in view drawn as stamps; beyond, the density recipe is faster
export const GESTURE_MAX = 250_000; // points drawn in a frame of a pan or zoom (an even sample); all once it pauses
export const SETTLE_MS = 160; // a gesture has paused after this long without a move

// "webgl" or "canvas" for a requested renderer ("auto", "webgl", "canvas") in this browser.
export function chooseRenderer(requested) {
  const kind = webglKind();
  if (requested === "canvas" || !kind) return "canvas";
  if (requested === "webgl") return "webgl";
  return kind === "hardware" ? "webgl" : "canvas";
}

export class PointsPainter {
  constructor(glCanvas, requested) {
    this.kind = chooseRenderer(requested);
    this.gl = null;
    this.density = new DensityLayer();
    this.last = ""; // what the last frame used: webgl, stamps or density
    if (this.kind === "webgl") {
      try {
        this.gl = new GLPoints(glCanvas);
        glCanvas.style.display = "block";
      } catch (err) {
        console.warn("livemap: WebGL unavailable, drawing on the canvas:", err);
        this.kind = "canvas";
      }
    }
  }

  // Draw the points of `map` into `img` (the opaque background, CSS->device dpr) or on the GL layer.
  paint(map, img, plot) {
    const colors = map.selCount ? map.selectionColors() : map.colors;
    const radius = map.n > 20000 ? 1.3 : map.n > 3000 ? 2.2 : 3;
    if (this.gl) {
      this.gl.sync(map.pos, colors, map.order);
      this.gl.draw(map.view, plot, map.dpr, radius);
      this.last = "webgl";
      return;
    }
    if (map.n > STAMP_MAX && !map.film) {
      const index = map.pointIndex();
      index.sortColors(colors);
      const moving = performance.now() - (map.gestureAt || 0) < SETTLE_MS;
      const stride = moving ? Math.max(1, Math.ceil(map.n / GESTURE_MAX)) : 1;
      this.density.draw(img, map.view, index, plot, map.dpr, stride);
      this.last = stride > 1 ? "density (gesture sample)" : "density";
      if (stride > 1) this.settle(map);
      return;
    }
    drawPoints(img, map.view, map.pos, map.order, colors, radius, plot, map.dpr);
    this.last = "stamps";
  }

  // The full frame once the gesture has paused.
  settle(map) {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => map.draw(), SETTLE_MS + 10);
  }

  finish() {
    if (this.gl) this.gl.finish();
  }
}
