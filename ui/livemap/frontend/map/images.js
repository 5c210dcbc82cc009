// The real images on hover, at any size: fetched lazily, the ones around the pointer and in
// view ahead of time, kept in a bounded cache.
//
// With the app's image route (route.py) any set of images comes in one POST: the hovered
// point's image first (an "urgent" batch with its neighbours), then the points in view when a
// zoom leaves few enough. Without it (a plain `streamlit run`), the static chunk files of
// core/assets.js are used, and their chunks prefetched the same way. get(i) gives the pixels
// or null (and asks for them); onLoad runs when a batch the tooltip waits for arrives.
import {ImageChunks} from "../core/assets.js";

const URGENT_MAX = 256; // images in one pointer batch (the hovered one and its nearest neighbours)
const BATCH_MAX = 2048; // images in one prefetch batch (the route's limit is 4096)
const CACHE_BYTES = 192 * 2 ** 20; // pixels kept in memory

export class RouteImages {
  constructor(base, spec, onLoad) {
    this.url = new URL(spec.route, window.location.href).href;
    this.spec = spec;
    this.size = spec.h * spec.w * (spec.c || 1);
    this.cap = Math.max(1024, Math.floor(CACHE_BYTES / this.size));
    this.onLoad = onLoad;
    this.cache = new Map(); // index -> pixels (insertion order = age)
    this.pending = new Set(); // asked for, not here yet
    this.urgent = [];
    this.background = [];
    this.inflight = 0;
    this.stats = {requests: 0, images: 0, failed: 0};
  }

  // The hovered point's image: asked for alone, at once (a batch of neighbours may be in flight).
  get(i) {
    const px = this.cache.get(i);
    if (px) return px;
    if (!this.pending.has(i) && this.inflight < 4) {
      this.pending.add(i);
      this.fetch(Uint32Array.of(i), true);
    } else this.want([i], true);
    return null;
  }

  has(i) {
    return this.cache.has(i);
  }

  // Ask for images: "urgent" ones (around the pointer) before the others (in view); one batch
  // of each in flight. Indices already here or asked for are skipped.
  want(ids, urgent = false) {
    const queue = urgent ? this.urgent : this.background;
    for (const i of ids) {
      if (this.cache.has(i) || this.pending.has(i)) continue;
      this.pending.add(i);
      queue.push(i);
    }
    this.pump();
  }

  pump() {
    if (this.urgent.length && !this.urgentBusy) {
      this.urgentBusy = true;
      this.fetch(Uint32Array.from(this.urgent.splice(0, URGENT_MAX)), true).finally(() => {
        this.urgentBusy = false;
        this.pump();
      });
    }
    if (this.background.length && !this.backgroundBusy && !this.urgentBusy) {
      this.backgroundBusy = true;
      this.fetch(Uint32Array.from(this.background.splice(0, BATCH_MAX)), false).finally(() => {
        this.backgroundBusy = false;
        this.pump();
      });
    }
  }

  async fetch(ids, urgent) {
    this.inflight++;
    this.stats.requests++;
    try {
      const resp = await fetch(this.url, {method: "POST", body: ids, headers: {"Content-Type": "application/octet-stream"}});
      if (!resp.ok) throw new Error(`image route answered HTTP ${resp.status}`);
      const buf = new Uint8Array(await resp.arrayBuffer());
      if (buf.length !== ids.length * this.size) throw new Error("image route sent a wrong size");
      ids.forEach((i, k) => this.keep(i, buf.subarray(k * this.size, (k + 1) * this.size)));
      this.stats.images += ids.length;
    } catch (err) {
      this.stats.failed++;
      console.warn("livemap: images", err);
    } finally {
      for (const i of ids) this.pending.delete(i);
      this.inflight--;
    }
    if (urgent) this.onLoad();
  }

  keep(i, px) {
    this.cache.set(i, px);
    if (this.cache.size > this.cap) this.cache.delete(this.cache.keys().next().value);
  }

  // Drop what a pointer that moved on no longer needs (not yet sent).
  forgetBackground() {
    for (const i of this.background) this.pending.delete(i);
    this.background.length = 0;
  }
}

// The static chunks, with the same want() for prefetching (a chunk at a time).
export class ChunkImages extends ImageChunks {
  want(ids) {
    const k = this.spec.chunk;
    const chunks = new Set(Array.from(ids, (i) => Math.floor(i / k)));
    let started = 0;
    for (const c of chunks) {
      if (started >= 4) break; // a chunk is ~60 kB: a few ahead, not the whole view
      if (!this.chunks.has(c)) {
        this.get(c * k);
        started++;
      }
    }
  }

  has(i) {
    return this.chunks.get(Math.floor(i / this.spec.chunk)) instanceof Uint8Array;
  }

  forgetBackground() {}
}

export function imageSource(base, spec, onLoad) {
  return spec.route ? new RouteImages(base, spec, onLoad) : new ChunkImages(base, spec, onLoad);
}

