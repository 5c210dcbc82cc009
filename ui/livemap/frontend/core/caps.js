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
