"""Encode: your own digit, uploaded or drawn, through the encoder and back."""

import numpy as np
import streamlit as st
import torch

import ui.livemap as lm
from ui.components import linked, maps, widgets
from ui.frame import context, probe, url
from ui.render import figures
from ui.services import data, latents
from vae_core.analysis import latent

ctx = context.current()
entry, model, data_name = ctx.entry, ctx.model, ctx.data_name
st.title("Encode your digit")
if tuple(ctx.config.image_shape) != (1, 28, 28):
    st.info("This model works on 8×8 images; pick a 28×28 model to encode uploads and drawings.")
    url.stop()

(upload_tab, draw_tab), _ = linked.tabs({"upload": "Upload", "draw": "Draw"}, key="enc_tab", name="input")
with upload_tab:
    uploaded = widgets.upload_digit("enc_upload", "A photo, scan or PNG of one handwritten digit")
with draw_tab:
    drawn = widgets.drawn_digit("enc_canvas")
# The newest input wins: whichever of the two changed on this run is what the user just did.
inputs = {"upload": uploaded, "drawing": drawn}
source = widgets.latest_input("enc", inputs)
if source is None:
    st.info("Upload an image or draw a digit to see where it lands in latent space.")
    url.stop()
x = inputs[source].x
other = "drawing" if source == "upload" else "upload"
note = f" — the newer of your two inputs; change your {other} to encode it instead." if inputs[other] else "."
st.markdown(f"Encoding **your {source}**{note}")

post = latents.encode(model, x)
mu, std = post.mean[0].numpy(), post.std[0].numpy()
recon = latents.decode(model, post.mean)
kl = post.kl_per_dim()[0].numpy()
mean, logvar = latents.codes(ctx.ref)
images, labels, classes = data.map_arrays(data_name)
cls, share = latent.knn_vote(post.mean, torch.from_numpy(mean), torch.from_numpy(labels), k=10)
c1, c2, c3 = st.columns(3)
c1.image(figures.to_pil(x[0], 196), caption="prepared input (MNIST-style 28×28)")
c2.image(figures.to_pil(recon[0], 196), caption="reconstruction (decoder at μ)")
c3.metric(
    "Predicted class (10 nearest codes)",
    classes[int(cls[0])],
    f"{share[0]:.0%} of the votes",
    delta_color="off",
    help="A vote of the 10 training digits whose latent means are nearest to this code.",
)
c3.metric("KL to the prior", "∞ (point code)" if not np.isfinite(kl.sum()) else f"{kl.sum():.1f} nats")
probe.record(encoded_mean=mu.tolist(), encoded_source=source)

order = latent.dimension_order(torch.from_numpy(mean), torch.from_numpy(logvar)).numpy()
c1, c2 = st.columns(2)
c1.plotly_chart(figures.mean_std_bars(mu, std, order), key="enc_bars")
if np.isfinite(kl).all():
    c2.plotly_chart(figures.bars(kl[order], [f"z{j + 1}" for j in order], "KL per dimension"), key="enc_kl")
else:
    c2.info("An autoencoder's code has zero variance: its KL to the prior is infinite, so it is not shown.")

method, params = widgets.projection_controls(model.config.latent_dim, key=ctx.widget_key("enc_map"))
mean, logvar, proj = latents.map_projection(ctx.ref, method, params)
xy = proj.transform(mu[None])
overlays = [lm.Markers(xy, ["your digit"], name="your digit")]
if proj.exact and np.isfinite(std).all() and std.max() > 0:
    overlays.append(lm.Ellipses(xy, proj.transform_cov(std[None] ** 2), name="your digit, 1σ", color="#000000"))
maps.draw(ctx, proj, key=ctx.widget_key("enc_chart"), overlays=overlays, height=480)

idx, _ = latent.nearest_neighbours(post.mean, torch.from_numpy(mean), k=10)
st.image(figures.image_grid(images[idx[0].numpy()], nrow=10), caption="its 10 nearest training digits in latent space")
