// Content-addressed assets: fetched once, then kept (1) in a memory map on the app's top window,
// which outlives this iframe across reruns and page switches, (2) in the Cache API where the
// page is a secure context (localhost, https), which outlives the tab, (3) in the HTTP cache.
// A file name is the hash of its content, so nothing here ever needs invalidating.

const CACHE_NAME = "livemap-assets-v1";
const MEMORY_CAP = 512 * 2 ** 20; // bytes kept in memory before the oldest entries go

function sharedMemory() {
  try {
    const top = window.top;
    if (!top.__livemapAssets) top.__livemapAssets = {map: new Map(), bytes: 0};
    return top.__livemapAssets;
  } catch (e) {
    return {map: new Map(), bytes: 0}; // cross-origin parent: this iframe's own memory only
  }
}

const memory = sharedMemory();
const inflight = new Map();
const converted = new Map(); // href -> typed array (float16 widened once per iframe)
export const stats = {network: 0, cacheApi: 0, memory: 0, bytesFetched: 0};

export function href(base, file) {
  return new URL(base + file, window.location.href).href;
}

function remember(key, buf) {
  memory.map.set(key, buf);
  memory.bytes += buf.byteLength;
  for (const [k, v] of memory.map) {
    if (memory.bytes <= MEMORY_CAP) break;
    memory.map.delete(k);
    memory.bytes -= v.byteLength;
  }
}

async function openCache() {
  try {
    return self.caches ? await caches.open(CACHE_NAME) : null;
  } catch (e) {
    return null; // storage disabled (private mode, quota): memory and HTTP cache still work
  }
}

async function inflate(buf) {
  const stream = new Blob([buf]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

async function load(url, gz) {
  const cache = await openCache();
  let resp = null;
  if (cache) {
    try {
      resp = await cache.match(url);
    } catch (e) {
      resp = null;
    }
  }
  if (resp) {
    stats.cacheApi++;
  } else {
    resp = await fetch(url);
    if (!resp.ok) throw new Error(`asset ${url.split("/").pop()} answered HTTP ${resp.status}`);
    stats.network++;
    if (cache) cache.put(url, resp.clone()).catch(() => {});
  }
  let buf = await resp.arrayBuffer();
  stats.bytesFetched += buf.byteLength;
  if (gz) buf = await inflate(buf);
  return buf;
}

export function bytes(url, gz = false) {
  const hit = memory.map.get(url);
  if (hit) {
    stats.memory++;
    return Promise.resolve(hit);
  }
  if (!inflight.has(url)) {
    const p = load(url, gz).then(
      (buf) => {
        remember(url, buf);
        inflight.delete(url);
        return buf;
      },
      (err) => {
        inflight.delete(url);
        throw err;
      },
    );
    inflight.set(url, p);
  }
  return inflight.get(url);
}

let f16Table = null;
function halfToFloat(u16) {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      if (e === 0) f16Table[h] = s * m * 2 ** -24;
      else if (e === 31) f16Table[h] = m ? NaN : s * Infinity;
      else f16Table[h] = s * (1 + m / 1024) * 2 ** (e - 15);
    }
  }
  const out = new Float32Array(u16.length);
  for (let i = 0; i < u16.length; i++) out[i] = f16Table[u16[i]];
  return out;
}

const VIEWS = {float32: Float32Array, uint8: Uint8Array, uint16: Uint16Array, int32: Int32Array};

// An ArrayRef ({file, dtype, shape, gz}) -> a typed array (float16 arrives widened to float32).
export async function array(base, ref) {
  const url = href(base, ref.file);
  if (converted.has(url)) return converted.get(url);
  const buf = await bytes(url, ref.gz);
  const n = ref.shape.reduce((a, b) => a * b, 1);
  const out = ref.dtype === "float16" ? halfToFloat(new Uint16Array(buf)) : new VIEWS[ref.dtype](buf);
  if (out.length !== n) throw new Error(`asset ${ref.file} holds ${out.length} values, expected ${n}`);
  converted.set(url, out);
  return out;
}

// The dataset's images, in chunks fetched on first use: get(i) gives the pixels or null (and
// starts the chunk's download; onLoad runs when it arrives).
export class ImageChunks {
  constructor(base, spec, onLoad) {
    this.base = base;
    this.spec = spec;
    this.onLoad = onLoad;
    this.chunks = new Map();
    this.size = (spec.c || 1) * spec.h * spec.w;
  }

  get(i) {
    const k = Math.floor(i / this.spec.chunk);
    const chunk = this.chunks.get(k);
    if (chunk instanceof Uint8Array) {
      const j = i - k * this.spec.chunk;
      return chunk.subarray(j * this.size, (j + 1) * this.size);
    }
    if (!chunk) {
      this.chunks.set(k, "loading");
      bytes(href(this.base, `${this.spec.prefix}-${k}.u8.gz`), true).then(
        (buf) => {
          this.chunks.set(k, new Uint8Array(buf));
          this.onLoad(k);
        },
        (err) => {
          this.chunks.delete(k);
          console.warn("livemap: image chunk", k, err);
        },
      );
    }
    return null;
  }
}
