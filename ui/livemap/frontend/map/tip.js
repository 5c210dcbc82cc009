// The hover tooltip: the point's number, class, value and real image (once it is here), and the
// time from the pointer event to that image on screen (metrics.imageWait; 0-ish when it was
// fetched ahead of the pointer, images.js).

export function refreshTip(map) {
  if (map.tip.index >= 0 && map.lastTip) showTip(map, ...map.lastTip.slice(0, 3), true);
}

// Point i at plot pixel (x, y); t0: the pointer event's time; arrived: its image just came.
export function showTip(map, i, x, y, arrived = false, t0 = performance.now()) {
  if (!arrived) map.lastTip = [i, x, y, t0];
  const spec = map.args.images;
  const pixels = map.images ? map.images.get(i) : null;
  if (pixels && (!arrived || map.tipWaiting === i)) {
    const since = arrived ? map.lastTip[3] : t0;
    record(map.metrics.imageWait, performance.now() - since);
    if (arrived) record(map.metrics.chunkWait, performance.now() - since);
    map.tipWaiting = -1;
  } else if (!pixels) map.tipWaiting = i;
  let caption = `#${i} · ${map.classes[map.labels[i]]}`;
  if (map.values) caption += ` · ${map.args.values.label} ${(+map.values[i]).toPrecision(3)}`;
  const bounds = {w: map.plot.clientWidth, h: map.plot.clientHeight};
  map.tip.show(i, x, y, caption, pixels, spec ? spec.h : 1, spec ? spec.w : 1, bounds, spec ? spec.c || 1 : 1);
  if (!spec) map.tip.canvas.style.display = "none";
}

export function record(list, ms) {
  list.push(ms);
  if (list.length > 2000) list.shift();
}
