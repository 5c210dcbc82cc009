"""ui.livemap: the latent map drawn in the browser (a Streamlit component with its JS in frontend/).

    store = AssetStore(cache_dir)                       # a folder the caller owns, outside the repo
    pts = publish_points(store, proj.embedding, labels, classes)
    imgs = publish_images(store, data.images)           # chunks, fetched on first hover
    dec = publish_decoder(store, model)                 # run by the browser under the pointer:
                                                        # an MLP in our JS, anything else in onnxruntime-web
    event = latent_map(pts, store, key="map", images=imgs, decoder=dec, lift=Lift.from_projection(proj))
    if event.fallback: st.plotly_chart(ui.figures.latent_scatter(...))

See README.md in this folder for how each page calls it.
"""

from .assets import (
    AssetError,
    AssetStore,
    DecoderAsset,
    Film,
    ImageSet,
    MlpDecoderAsset,
    OnnxDecoderAsset,
    PointSet,
    ValueSet,
)
from .codec import Lift, decode_selection, encode_selection
from .component import (
    GridEvent,
    MapEvent,
    SliderEvent,
    grid_decoder,
    latent_map,
    slider_decoder,
    unmounted,
)
from .decoder_failures import decoder_note, decoder_unavailable
from .overlays import Circle, Ellipses, Markers, Points, Polyline, Raster
from .publish import (
    keep_serving,
    publish_decoder,
    publish_film,
    publish_images,
    publish_mlp_decoder,
    publish_onnx_decoder,
    publish_points,
    publish_values,
)

__all__ = [
    "AssetError",
    "AssetStore",
    "Circle",
    "DecoderAsset",
    "Ellipses",
    "Film",
    "GridEvent",
    "ImageSet",
    "Lift",
    "MapEvent",
    "Markers",
    "MlpDecoderAsset",
    "OnnxDecoderAsset",
    "PointSet",
    "Points",
    "Polyline",
    "Raster",
    "SliderEvent",
    "ValueSet",
    "decode_selection",
    "decoder_note",
    "decoder_unavailable",
    "encode_selection",
    "grid_decoder",
    "latent_map",
    "unmounted",
    "publish_decoder",
    "publish_film",
    "keep_serving",
    "publish_images",
    "publish_mlp_decoder",
    "publish_onnx_decoder",
    "publish_points",
    "publish_values",
    "slider_decoder",
]
