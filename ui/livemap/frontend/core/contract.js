// The component's argument contract, written once: what ui/livemap/component.py sends on every
// run (one object per mode) and what the browser sends back. Each typedef mirrors a Python
// dict built in component.py, assets.py or overlays.py; tests/app/test_livemap_contract.py
// compares the property names below with the keys the Python side really builds, so the two
// sides cannot drift apart silently. Types are documentation (no build step checks them).

/**
 * An array stored in the asset folder (assets.py ArrayRef.arg()).
 * @typedef {Object} ArrayRef
 * @property {string} file   file name inside the asset folder (content hash + suffix)
 * @property {string} dtype  float32 | float16 | uint8 | uint16 | int32, little-endian
 * @property {number[]} shape  C-order shape
 * @property {boolean} gz    gzip-compressed on disk (inflated with DecompressionStream)
 */

/**
 * The map's points (assets.py PointSet.arg()).
 * @typedef {Object} PointsArg
 * @property {ArrayRef} xy       float32 [N, 2] map positions
 * @property {ArrayRef} labels   uint8 | uint16 [N] class of each point
 * @property {string[]} classes  class names by label
 * @property {number} n          number of points
 */

/**
 * The dataset's images, gzipped uint8 chunks fetched on first hover (assets.py ImageSet.arg()).
 * @typedef {Object} ImagesArg
 * @property {string} prefix  chunk k is `${prefix}-${k}.u8.gz`
 * @property {number} n       images
 * @property {number} c       channels: 1 grey, 3 colour (planar per image: R plane, G, B)
 * @property {number} h       pixels
 * @property {number} w       pixels
 * @property {number} chunk   images per chunk file
 * @property {?string} route  the app's image route (POST uint32 indices -> their pixels), or null: chunks
 */

/**
 * kind "mlp": an MLP decoder run by our JavaScript (assets.py MlpDecoderAsset.arg(); core/decoder.js).
 * @typedef {Object} MlpDecoderArg
 * @property {"mlp"} kind
 * @property {ArrayRef} weights   per layer W [out, in] row-major then b [out], concatenated
 * @property {number[][]} layers  [in, out] of each Linear, input first
 * @property {string} activation  "elu" | "relu" between the Linear layers
 * @property {number[]} image_shape  [C, H, W] of the decoded image (C = 1 grey or 3 RGB)
 */

/**
 * kind "onnx": any other decoder, an ONNX graph run by onnxruntime-web (assets.py
 * OnnxDecoderAsset.arg(); core/onnx.js): float32 [N, latent_dim] -> float32 [N, C, H, W].
 * @typedef {Object} OnnxDecoderArg
 * @property {"onnx"} kind
 * @property {ArrayRef} graph        uint8 [bytes]: the self-contained graph (a content-addressed .onnx file)
 * @property {number} latent_dim     D of the input
 * @property {number[]} image_shape  [C, H, W] of the decoded image (C = 1 grey or 3 RGB)
 * @property {string} input          the graph's input name
 * @property {string} output         the graph's output name
 * @property {string} output_kind    "logits" (the browser applies the sigmoid) | "probs" (clamped to [0, 1])
 */

/** What the map, the sliders and the grid decode with (core/decoders.js loads either).
 * @typedef {MlpDecoderArg|OnnxDecoderArg} DecoderArg
 */

/**
 * Map coordinates back to a code: z = center + [x, y] @ components (codec.py Lift.arg()).
 * @typedef {Object} LiftArg
 * @property {number[]} center       [D]
 * @property {number[][]} components [2][D]
 */

/**
 * A value per point, coloured through a scale (assets.py ValueSet.arg()).
 * @typedef {Object} ValuesArg
 * @property {string} file
 * @property {string} dtype
 * @property {number[]} shape
 * @property {boolean} gz
 * @property {string} label  the colour bar's title
 * @property {string} scale  viridis | magma | blues | rdbu
 * @property {number} vmin
 * @property {number} vmax
 */

/**
 * A training film (assets.py Film.arg()).
 * @typedef {Object} FilmArg
 * @property {ArrayRef} frames  float16 [E, N, 2] positions per frame
 * @property {number[]} epochs  epoch of each frame
 * @property {Object<string, number[]>} losses  series name -> value per frame
 * @property {Object<string, string>} colors  series name -> #rrggbb, as on the page's loss chart
 */

/** overlays.py Polyline.arg()
 * @typedef {Object} PolylineOverlay
 * @property {"polyline"} type
 * @property {number[][]} xy
 * @property {string} name
 * @property {string} color
 * @property {number} width
 * @property {boolean} markers
 * @property {?string} start
 * @property {?string} end
 */

/** overlays.py Markers.arg() (Points too)
 * @typedef {Object} MarkersOverlay
 * @property {"markers"} type
 * @property {number[][]} xy
 * @property {?string[]} labels
 * @property {string} name
 * @property {string} symbol
 * @property {string} color
 * @property {number} size
 */

/** overlays.py Ellipses.arg()
 * @typedef {Object} EllipsesOverlay
 * @property {"ellipses"} type
 * @property {number[][]} xy   centres
 * @property {number[][]} cov  [var_x, cov_xy, var_y] per ellipse
 * @property {number} k        sigmas drawn
 * @property {string} name
 * @property {string} color
 * @property {number} width
 */

/** overlays.py Circle.arg()
 * @typedef {Object} CircleOverlay
 * @property {"circle"} type
 * @property {number[]} center
 * @property {number} r
 * @property {string} name
 * @property {string} color
 * @property {boolean} dash
 * @property {number} width
 */

/** overlays.py Raster.arg()
 * @typedef {Object} RasterOverlay
 * @property {"raster"} type
 * @property {number} h
 * @property {number} w
 * @property {string} data       base64 uint8 [h, w] (0..255 = transparent..opaque)
 * @property {number[]} extent   [x0, x1, y0, y1]
 * @property {string} name
 * @property {string} color
 * @property {number} alpha
 */

/** @typedef {PolylineOverlay|MarkersOverlay|EllipsesOverlay|CircleOverlay|RasterOverlay} Overlay */

/**
 * What Streamlit delivers (component.py _mount): the mode, the handshake flag and the rest as one
 * JSON string, which main.js unpacks into CommonArgs plus the mode's own fields.
 * @typedef {Object} WireArgs
 * @property {string} mode
 * @property {boolean} ready_known
 * @property {string} spec  JSON of {assets, ...the mode's fields} (component.py _spec)
 */

/**
 * What every mode receives besides its own fields (component.py _mount). On the wire, a mode's
 * own fields and `assets` travel as one JSON string, `spec` (component.py _spec); main.js unpacks
 * it, so every widget sees the object these typedefs describe.
 * @typedef {Object} CommonArgs
 * @property {string} mode          "map" | "sliders" | "grid"
 * @property {boolean} ready_known  the page already saw this component's handshake
 * @property {string} assets        URL of the asset folder, relative to this page
 */

/**
 * mode "map": component.py latent_map().
 * @typedef {Object} MapArgs
 * @property {PointsArg} points
 * @property {?ImagesArg} images
 * @property {?DecoderArg} decoder
 * @property {?LiftArg} lift
 * @property {Overlay[]} overlays
 * @property {?({list: number[]}|{bits: string, n: number})} selection  a selection to adopt (codec.py)
 * @property {?number[]} visible     classes drawn in colour (null: all)
 * @property {?ValuesArg} values
 * @property {?number} highlight     a point to mark and bring into view
 * @property {?FilmArg} film
 * @property {string[]} axis_labels
 * @property {boolean} equal         equal aspect (linear maps)
 * @property {?number[]} bounds      [x0, x1, y0, y1] shown at first and on "Reset view"
 * @property {number} height
 * @property {?string} title
 * @property {string} renderer      "auto" | "webgl" | "canvas" (map/points.js)
 */

/**
 * mode "sliders": component.py slider_decoder().
 * @typedef {Object} SliderArgs
 * @property {DecoderArg} decoder
 * @property {number[]} base      the code the sliders start from
 * @property {number[]} order     dimensions, top slider first
 * @property {string[]} names     one label per dimension
 * @property {number[]} range     [lo, hi, step]
 * @property {number} image_px
 */

/**
 * mode "grid": component.py grid_decoder().
 * @typedef {Object} GridArgs
 * @property {DecoderArg} decoder
 * @property {number[]} base
 * @property {number[]} dims      [row dimension, column dimension]
 * @property {number[]} values    per axis, rows from high to low
 * @property {number} cell_px
 * @property {?string} caption
 * @property {string[]} axes      the row and column dimensions' names, for the axis titles
 */

/**
 * What the browser sends back (setComponentValue); component.py decodes it defensively.
 * @typedef {Object} ComponentValue
 * @property {boolean} ready          the widget drew (false with unsupported or error)
 * @property {number} seq             increases with every message of this iframe
 * @property {string} unsupported     why this browser cannot run the component
 * @property {string} error           an asset or drawing error
 * @property {({list: number[]}|{bits: string, n: number})} selection  map: the user's selection
 * @property {string} trigger         map: click | box | lasso | clear
 * @property {number[]} z             sliders: the code at the last release
 * @property {number[]} cell          grid: [row, column] of the clicked cell
 * @property {string} decoder_error   the decoder cannot run here (the map goes on without it; sliders
 *                                    and grid send ready: false and the page decodes on the server)
 * @property {string} decoder_scope   "runtime" (onnxruntime-web cannot start: no ONNX decoder runs) | "graph"
 * @property {string} decoder_id      the failed decoder's file (graph or weights)
 */

export {};
