// What the browser must offer; anything missing makes the page fall back to the plotly map.
export function missingFeatures() {
  const missing = [];
  if (typeof fetch !== "function") missing.push("fetch");
  if (typeof DecompressionStream !== "function") missing.push("DecompressionStream (gzip)");
  if (typeof Float32Array !== "function" || typeof DataView !== "function") missing.push("typed arrays");
  if (typeof ResizeObserver !== "function") missing.push("ResizeObserver");
  try {
    const c = document.createElement("canvas");
    const ctx = c.getContext("2d");
    if (!ctx || typeof ctx.createImageData !== "function" || typeof ctx.ellipse !== "function") missing.push("canvas 2D");
  } catch (e) {
    missing.push("canvas 2D");
  }
  return missing.join(", ");
}

// Which WebGL this browser has: "hardware", "software" (SwiftShader, llvmpipe: WebGL run on the
// CPU, slower here than our own canvas drawing, README "Performance") or "" when it has none.
export function webglKind() {
  try {
    const c = document.createElement("canvas");
    const gl = c.getContext("webgl2") || c.getContext("webgl");
    if (!gl) return "";
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const name = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
    return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name) ? "software" : "hardware";
  } catch (e) {
    return "";
  }
}
