"""Encode: your own image — uploaded, drawn or an example — through the encoder and back."""

import numpy as np
import streamlit as st
import torch

import ui.livemap as lm
from ui.components import linked, maps, typicality, widgets
from ui.frame import context, probe, url
from ui.render import figures
from ui.sections import encode as section
from ui.services import data, latents
from vae_core.analysis import latent
from vae_core.data import catalog

ctx = context.current()
entry, model, data_name = ctx.entry, ctx.model, ctx.data_name
own = entry.dataset if entry.dataset in catalog.DATASETS else data_name  # what the model expects to see
noun = catalog.noun(own)
st.title(f"Encode your {noun}")
folder = own.startswith(catalog.FOLDER_PREFIX)  # an image folder's model: uploads prepared like its images
c, h, w = ctx.config.image_shape
if not folder and (c, h, w) != (1, 28, 28):
    st.info(f"This model works on {h}×{w} images; pick a 28×28 model to encode uploads and drawings.")
    url.stop()

(upload_tab, draw_tab), _ = linked.tabs({"upload": "Upload", "draw": "Draw"}, key="enc_tab", name="input")
with upload_tab:
    uploaded = widgets.upload_digit("enc_upload", catalog.upload_hint(own), data_name=own if folder else "")
with draw_tab:
    if folder:  # the canvas draws white ink on black, prepared like a digit: not what a folder's images are
        st.info(f"Drawing is for digit models; upload a picture like {catalog.title(own)}'s images instead.")
        drawn = None
    else:
        drawn = widgets.drawn_digit("enc_canvas", f"Draw one {noun}")
example = section.example_picker(own, "enc_example")
# The newest input wins: whichever of them changed on this run is what the user just did.
inputs = {"upload": uploaded, "drawing": drawn, "example": example}
source = widgets.latest_input("enc", inputs)
if source is None:
    typicality.data_note(ctx)
    st.info(f"Upload an image, draw a {noun} or try an example to see where it lands in latent space.")
    url.stop()
x = inputs[source].x
what = section.example_name(inputs[source].signature, own) if source == "example" else source
others = [name for name in inputs if name != source and inputs[name]]
note = f" — the newest of your inputs; change your {' or '.join(others)} to encode it instead." if others else "."
st.markdown(f"Encoding **your {what}**{note}")

post = latents.encode(model, x)
mu, std = post.mean[0].numpy(), post.std[0].numpy()
recon = latents.decode(model, post.mean)
kl = post.kl_per_dim()[0].numpy()
mean, logvar = latents.codes(ctx.ref)
images, labels, classes = data.map_arrays(data_name)
cls, share = latent.knn_vote(post.mean, torch.from_numpy(mean), torch.from_numpy(labels), k=10)
plural = catalog.plural(data_name)
c1, c2, c3 = st.columns(3)
prepared = (
    f"prepared input ({h}×{w}, {'colour' if c == 3 else 'grey'}: centre-cropped and resized as the folder's images are)"
    if folder
    else "prepared input (28×28, centred as MNIST's digits are)"
)
c1.image(figures.to_pil(x[0], 196), caption=prepared)
c2.image(figures.to_pil(recon[0], 196), caption="reconstruction (decoder at μ)")
c3.metric(
    "Predicted class (10 nearest codes)",
    classes[int(cls[0])],
    f"{share[0]:.0%} of the votes",
    delta_color="off",
    help=f"A vote of the 10 training {plural} whose latent means are nearest to this code.",
)
point = not np.isfinite(kl).all()
c3.metric(
    "KL to the prior",
    "—" if point else f"{kl.sum():.1f} nats",
    help="An autoencoder's code is a point: its KL to the prior does not exist (— on every page)." if point else None,
)
seen = typicality.image_note(ctx, x, what)
probe.record(
    encoded_mean=mu.tolist(), encoded_source=source, encoded_typicality=seen, encoded_input_shape=list(x.shape[1:])
)
section.code_charts_row(mu, std, kl)

typicality.data_note(ctx)
method, params = widgets.projection_controls(model.config.latent_dim, key=ctx.widget_key("enc_map"))
mean, logvar, proj = latents.map_projection(ctx.ref, method, params)
xy = proj.transform(mu[None])
overlays = [lm.Markers(xy, [f"your {noun}"], name=f"your {noun}")]
if proj.exact and np.isfinite(std).all() and std.max() > 0:
    overlays.append(lm.Ellipses(xy, proj.transform_cov(std[None] ** 2), name=f"your {noun}, 1σ", color="#000000"))
maps.draw(ctx, proj, key=ctx.widget_key("enc_chart"), overlays=overlays, height=480)

idx, _ = latent.nearest_neighbours(post.mean, torch.from_numpy(mean), k=10)
st.image(
    figures.image_grid(images[idx[0].numpy()], nrow=10), caption=f"its 10 nearest training {plural} in latent space"
)
