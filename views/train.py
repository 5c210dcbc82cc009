"""Train: retrain a model from the browser. The job runs in the background; this page polls it."""

import time
import uuid

import streamlit as st
import torch

import vae_core
from ui import settings
from ui.sections import train as section
from ui.sections import train_models
from ui.services import data, models
from vae_core.data import DATASETS, catalog, is_available
from vae_core.io.registry import KIND_NAMES
from vae_core.model.config import MAX_BETA, MAX_LATENT_DIM, ModelConfig
from vae_core.training.config import BOUNDS, TrainConfig
from vae_core.training.device import PRECISIONS

st.title("Train a model")
st.caption(
    "Training runs in the background: leave this page, come back, or refresh — the job goes on, and every "
    f"browser sees the server's jobs. Models are saved in `{settings.user_dir().name}/` and join the model picker."
)
picked = st.session_state.get("ctx")  # the sidebar's model (None when there is no usable one)
if picked is not None and not picked.retrainable:
    st.info(
        f"**{picked.entry.stem}** is an ONNX model: the explorer cannot retrain it (its graphs carry no "
        "gradients here, and it has no training recipe or film). Retrain it in the code that made it and export "
        "it again, or train a model of ours below."
    )
manager = models.job_manager()
KEEP = "session"  # the form keeps its values when the user leaves the page and comes back
RECIPE = TrainConfig()  # the shipped recipe: TrainConfig's defaults
QUICK_EPOCHS = 60  # the shipped recipe runs 150; 60 finishes in about a minute within a few nats of it
devices = (
    ["auto", "cpu"]
    + (["cuda"] if torch.cuda.is_available() else [])
    + (["mps"] if torch.backends.mps.is_available() else [])
)

upload = st.file_uploader(
    "Train on your own images: a zip of them (one folder per class, or just images)",
    type=["zip"],
    key="tr_zip",
    help="Extracted safely into the app's uploads folder, then offered under Dataset like a folder of the data root.",
)
if upload is not None and st.session_state.get("_tr_zip_done") != upload.file_id:  # once per upload
    try:
        made, line = data.extract_upload(upload.name, upload.getvalue())
        st.session_state["tr_data"] = made  # chosen in the form below
        st.session_state["_tr_zip_line"] = line
    except ValueError as e:  # ArchiveRefused: one line with the bound it broke
        st.session_state["_tr_zip_line"] = f"error: {e}"
    st.session_state["_tr_zip_done"] = upload.file_id
if (line := st.session_state.get("_tr_zip_line")) and upload is not None:
    (st.error if line.startswith("error: ") else st.success)(line.removeprefix("error: "))
folders = data.folders()  # allow-listed: the data root's sub-folders and the uploaded zips
names = [n for n in DATASETS if is_available(n, settings.data_root())] + folders
SIZES = {"auto": "from the images", 28: "28 px", 32: "32 px", 64: "64 px"}
COLOURS = {"auto": "from the images", 1: "grey", 3: "colour"}
NETWORKS = {"auto": "auto (conv unless 28×28 grey)", "mlp": "MLP", "conv": "conv"}
choices = {
    "tr_kind": list(KIND_NAMES),
    "tr_data": names,
    "tr_device": devices,
    "tr_precision": list(PRECISIONS),
    "tr_size": list(SIZES),
    "tr_colour": list(COLOURS),
    "tr_arch": list(NETWORKS),
}
section.restore_form(manager, choices)  # a refresh keeps the form: this browser's last recipe

with st.form("train_form", enter_to_submit=False):  # Enter in a number box must not start a job
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox("Kind", list(KIND_NAMES), format_func=KIND_NAMES.get, key="tr_kind", persist_state=KEEP)
    latent_dim = c2.number_input("Latent size", 1, MAX_LATENT_DIM, 16, 1, key="tr_d", persist_state=KEEP)
    beta = c3.number_input("β (KL weight)", 0.0, float(MAX_BETA), 1.0, 0.5, key="tr_beta", persist_state=KEEP)
    c1, c2, c3 = st.columns(3)
    epochs = c1.number_input(
        "Epochs",
        *BOUNDS["epochs"],
        QUICK_EPOCHS,
        1,
        key="tr_epochs",
        persist_state=KEEP,
        help=f"The shipped models ran {RECIPE.epochs}.",
    )
    dataset = c2.selectbox("Dataset", names, format_func=catalog.title, key="tr_data", persist_state=KEEP)
    seed = c3.number_input("Seed", *BOUNDS["seed"], 0, 1, key="tr_seed", persist_state=KEEP)
    with st.expander("Advanced"):
        a1, a2, a3, a4 = st.columns(4)
        lr = a1.number_input(
            "Learning rate", *BOUNDS["lr"], RECIPE.lr, 1e-4, format="%.4f", key="tr_lr", persist_state=KEEP
        )
        shift = a2.number_input(
            "Random shift (px)", *BOUNDS["augment_shift"], RECIPE.augment_shift, 1, key="tr_shift", persist_state=KEEP
        )
        device = a3.selectbox(
            "Device", devices, key="tr_device", persist_state=KEEP, help="auto: a GPU when there is one, else the CPU."
        )
        precision = a4.selectbox(
            "Precision",
            PRECISIONS,
            key="tr_precision",
            persist_state=KEEP,
            help="auto: bf16 where the device runs it natively and as well.",
        )
        b1, b2, b3 = st.columns(3)
        arch = b1.selectbox(
            "Network",
            list(NETWORKS),
            format_func=NETWORKS.get,
            key="tr_arch",
            persist_state=KEEP,
            help="conv: stride-2 convolutions (the β-VAE paper's design), for colour and larger images.",
        )
        size = b2.selectbox(
            "Image size (folders)", list(SIZES), format_func=SIZES.get, key="tr_size", persist_state=KEEP,
            help="An image folder's images are centre-cropped to a square and resized to this side.",
        )  # fmt: skip
        colour = b3.selectbox(
            "Colour (folders)", list(COLOURS), format_func=COLOURS.get, key="tr_colour", persist_state=KEEP
        )
    submitted = st.form_submit_button("Start training", type="primary")
if not folders:
    st.caption(
        "Image folders: upload a zip of images above, or start the app with VAE_EXPLORER_DATA_ROOT set to a folder "
        "of them (one sub-folder per dataset, ImageFolder layout) and they are offered here; a path typed in a "
        "browser is never read."
    )

missing = [n for n in DATASETS if n not in names]
if missing:
    st.caption(
        f"Not available offline here: {', '.join(missing)}. Start the app with VAE_EXPLORER_DATA_ROOT set to a "
        "torchvision root holding their IDX files (MNIST/raw, FashionMNIST/raw) to train on them."
    )

if submitted:
    try:
        form = section.folder_form(dataset, size, colour)  # {} for a named dataset
        with st.spinner(f"Reading {catalog.title(dataset)}…"):  # a folder is decoded once, then cached
            shape = tuple(vae_core.load_dataset(dataset, "val", settings.data_root(), **form).image_shape)
        mcfg = ModelConfig(
            kind=kind, latent_dim=int(latent_dim), beta=float(beta), image_shape=shape, **section.network(arch, shape)
        )
        tcfg = TrainConfig(
            epochs=int(epochs),
            lr=float(lr),
            seed=int(seed),
            augment_shift=int(shift),
            batch_size=RECIPE.batch_size,
            precision=precision,
            device=device,
        )
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"  # unique across sessions
        out = settings.user_dir() / f"{kind}-z{int(latent_dim)}-{section.file_word(dataset)}-{stamp}.safetensors"
        job = manager.submit(mcfg, tcfg, dataset, out, settings.data_root(), owner=section.owner())
        st.session_state["job_id"] = job.id
    except (ValueError, RuntimeError, OSError) as e:
        st.error(str(e))

section.jobs_view(manager)
train_models.your_models(manager)
